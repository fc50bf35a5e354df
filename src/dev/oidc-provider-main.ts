import { generateKeyPairSync } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type Provider from 'oidc-provider';
import { findDevUser, findDevUserByEmail } from './oidc-provider-users';
import { consentPage, loginPage } from './oidc-provider-pages';

/**
 * The local OpenID provider, a process of its own (oidc-provider is ESM-only and must never be loaded
 * by the web process). Configured through env by src/dev/oidc-provider.ts.
 */
interface ProviderSettings {
  issuer: string;
  port: number;
  clientId: string;
  clientSecret: string;
  redirectUris: string[];
  cookieKey: string;
  demoPassword: string;
}

function readSettings(env: NodeJS.ProcessEnv): ProviderSettings {
  const need = (key: string) => {
    const value = env[key];
    if (!value) throw new Error(`${key} is required`);
    return value;
  };
  return {
    issuer: need('OIDC_ISSUER'),
    port: Number(need('OIDC_PORT')),
    clientId: need('OIDC_CLIENT_ID'),
    clientSecret: need('OIDC_CLIENT_SECRET'),
    redirectUris: need('OIDC_REDIRECT_URIS').split(','),
    cookieKey: need('OIDC_COOKIE_KEY'),
    demoPassword: need('OIDC_DEMO_PASSWORD'),
  };
}

function providerConfiguration(settings: ProviderSettings): Record<string, unknown> {
  const signingKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
  return {
    clients: [
      {
        client_id: settings.clientId,
        client_secret: settings.clientSecret,
        redirect_uris: settings.redirectUris,
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_post',
      },
    ],
    // Every client must use PKCE, as a public-facing provider should.
    pkce: { required: () => true },
    features: { devInteractions: { enabled: false }, revocation: { enabled: true } },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    scopes: ['openid', 'offline_access', 'email', 'profile'],
    findAccount: (_ctx: unknown, id: string) => {
      const user = findDevUser(id);
      if (!user) return undefined;
      return {
        accountId: id,
        claims: () => ({ sub: id, email: user.email, email_verified: user.emailVerified, name: user.name }),
      };
    },
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    cookies: { keys: [settings.cookieKey] },
    jwks: { keys: [{ ...signingKey, kid: 'dev-rs256', use: 'sig', alg: 'RS256' }] },
    // Every refresh returns a new refresh token and a reused one revokes the whole grant (oidc-provider's
    // reuse detection), as strict providers do: hooklane must never refresh twice with the same token.
    rotateRefreshToken: true,
    ttl: { AccessToken: 3600, AuthorizationCode: 300, Grant: 86_400, IdToken: 3600, Interaction: 600, Session: 86_400, RefreshToken: 86_400 },
  };
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function html(res: ServerResponse, body: string, status = 200): void {
  res.writeHead(status, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(body);
}

async function interaction(provider: Provider, settings: ProviderSettings, req: IncomingMessage, res: ServerResponse) {
  const [, , uid, action] = (req.url ?? '').split('?')[0]!.split('/');
  const details = await provider.interactionDetails(req, res);
  if (req.method === 'GET' && !action) {
    if (details.prompt.name === 'login') return html(res, loginPage(uid!, { demoPassword: settings.demoPassword }));
    const missing = (details.prompt.details.missingOIDCScope as string[] | undefined) ?? [];
    return html(res, consentPage(uid!, String(details.params.client_id), missing));
  }
  if (req.method !== 'POST') return html(res, 'Method not allowed', 405);
  if (action === 'login') {
    const form = await readForm(req);
    const user = findDevUserByEmail(form.get('email') ?? '');
    if (!user || form.get('password') !== settings.demoPassword) {
      return html(res, loginPage(uid!, { error: 'Wrong email or password.', demoPassword: settings.demoPassword }), 401);
    }
    return provider.interactionFinished(req, res, { login: { accountId: user.accountId } }, { mergeWithLastSubmission: false });
  }
  if (action === 'consent') return provider.interactionFinished(req, res, { consent: { grantId: await grantAll(provider, details) } });
  if (action === 'abort') {
    const result = { error: 'access_denied', error_description: 'The user denied the request' };
    return provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
  }
  return html(res, 'Not found', 404);
}

/** Grants what the consent prompt says is missing (the dev client is first-party). */
async function grantAll(provider: Provider, details: Awaited<ReturnType<Provider['interactionDetails']>>): Promise<string> {
  const grant =
    (details.grantId ? await provider.Grant.find(details.grantId) : undefined) ??
    new provider.Grant({ accountId: details.session?.accountId, clientId: String(details.params.client_id) });
  const missing = details.prompt.details;
  const scopes = (missing.missingOIDCScope as string[] | undefined) ?? [];
  if (scopes.length) grant.addOIDCScope(scopes.join(' '));
  const claims = (missing.missingOIDCClaims as string[] | undefined) ?? [];
  if (claims.length) grant.addOIDCClaims(claims);
  const resourceScopes = (missing.missingResourceScopes as Record<string, string[]> | undefined) ?? {};
  for (const [indicator, list] of Object.entries(resourceScopes)) grant.addResourceScope(indicator, list.join(' '));
  return grant.save();
}

async function main(): Promise<void> {
  if (process.env.NODE_ENV === 'production') throw new Error('the local OpenID provider is refused with NODE_ENV=production');
  const settings = readSettings(process.env);
  const { default: ProviderClass } = await import('oidc-provider');
  const provider = new ProviderClass(settings.issuer, providerConfiguration(settings));
  const callback = provider.callback();
  const server = createServer((req, res) => {
    if (!(req.url ?? '').startsWith('/interaction/')) return callback(req, res);
    interaction(provider, settings, req, res).catch((err: unknown) => {
      process.stderr.write(`oidc interaction failed: ${err instanceof Error ? err.message : String(err)}\n`);
      if (!res.headersSent) html(res, 'This sign-in has expired or is invalid. Start again from the dashboard.', 400);
    });
  });
  server.listen(settings.port, '127.0.0.1', () => {
    process.stdout.write(`${JSON.stringify({ msg: 'oidc provider listening', issuer: settings.issuer })}\n`);
  });
  const stop = () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`oidc provider failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
