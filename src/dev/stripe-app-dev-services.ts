import type { DevService, DevServiceContext } from './dev-services';
import { loadDevSecrets } from './dev-secrets';
import { startOidcProvider } from './oidc-provider';
import { startStripeEmulator } from './stripe-emulator';

const DEV_CLIENT_ID = 'hooklane-dev';

function refuseProduction(env: NodeJS.ProcessEnv): void {
  if (env.NODE_ENV === 'production') throw new Error('local Stripe/OAuth emulators are refused with NODE_ENV=production');
}

/**
 * Without STRIPE_SECRET_KEY: a local Stripe API emulator (the Secret Store endpoints) on a free port.
 * Also fills in the shared secrets a real Stripe account would give you (app signing secret, webhook
 * secret) and where /authorize sends the user back (the dev dashboard page).
 */
export async function startStripeDevServices({ env, dataDir, publicUrl }: DevServiceContext): Promise<DevService | undefined> {
  refuseProduction(env);
  const secrets = loadDevSecrets(dataDir);
  const added: Record<string, string> = {};
  const banner: string[] = [];
  let stop = async () => {};
  if (!env.STRIPE_SECRET_KEY) {
    const emulator = await startStripeEmulator({ secretKey: secrets.stripeSecretKey, port: 12111 }).catch(() =>
      startStripeEmulator({ secretKey: secrets.stripeSecretKey }),
    );
    stop = emulator.stop;
    Object.assign(added, { STRIPE_SECRET_KEY: secrets.stripeSecretKey, STRIPE_API_BASE: emulator.url });
    banner.push(`Stripe API emulator (Secret Store) on ${emulator.url}  STRIPE_SECRET_KEY=${secrets.stripeSecretKey}`);
  }
  if (!env.STRIPE_APP_SECRET) added.STRIPE_APP_SECRET = secrets.stripeAppSecret;
  if (!env.STRIPE_WEBHOOK_SECRET) added.STRIPE_WEBHOOK_SECRET = secrets.stripeWebhookSecret;
  if (!env.STRIPE_REDIRECT_URL) added.STRIPE_REDIRECT_URL = `${publicUrl}/dev/dashboard`;
  const shown = (['STRIPE_APP_SECRET', 'STRIPE_WEBHOOK_SECRET'] as const).filter((k) => added[k]);
  if (shown.length) banner.push(`dev secrets (in .data/dev-secrets.json): ${shown.map((k) => `${k}=${added[k]}`).join('  ')}`);
  banner.push(`dev Stripe Dashboard (signs Stripe App calls): ${publicUrl}/dev/dashboard`);
  return { name: 'stripe', env: added, banner, stop };
}

/** Without OAUTH_ISSUER or explicit endpoints: the local OpenID provider with a demo user. */
export async function startOAuthDevServices({ env, dataDir, publicUrl }: DevServiceContext): Promise<DevService | undefined> {
  refuseProduction(env);
  if (env.OAUTH_ISSUER || env.OAUTH_AUTHORIZATION_ENDPOINT) return undefined;
  const secrets = loadDevSecrets(dataDir);
  const redirectUri = env.OAUTH_REDIRECT_URI ?? `${publicUrl}/api/oauth/authorize`;
  const provider = await startOidcProvider({
    port: 3001,
    clientId: env.OAUTH_CLIENT_ID ?? DEV_CLIENT_ID,
    clientSecret: env.OAUTH_CLIENT_SECRET ?? secrets.oauthClientSecret,
    redirectUris: [redirectUri],
    cookieKey: secrets.oidcCookieKey,
    demoPassword: secrets.demoPassword,
  });
  return {
    name: 'oidc',
    env: {
      OAUTH_ISSUER: provider.issuer,
      OAUTH_CLIENT_ID: env.OAUTH_CLIENT_ID ?? DEV_CLIENT_ID,
      OAUTH_CLIENT_SECRET: env.OAUTH_CLIENT_SECRET ?? secrets.oauthClientSecret,
      OAUTH_REDIRECT_URI: redirectUri,
    },
    banner: [`local OpenID provider on ${provider.issuer}  (sign in as demo@example.com / ${secrets.demoPassword})`],
    stop: provider.stop,
  };
}
