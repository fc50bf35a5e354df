import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config';
import type { DevService } from '../../src/dev/dev-services';
import { startOAuthDevServices, startStripeDevServices } from '../../src/dev/stripe-app-dev-services';

const publicUrl = 'http://localhost:3999';
let dataDir: string;
const running: DevService[] = [];

beforeEach(() => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'hooklane-dev-'));
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop()));
  rmSync(dataDir, { recursive: true, force: true });
});

async function start(starter: typeof startStripeDevServices, env: NodeJS.ProcessEnv = {}): Promise<DevService | undefined> {
  const service = await starter({ env, dataDir, publicUrl });
  if (service) running.push(service);
  return service;
}

describe('npm start without Stripe or provider config', () => {
  test('runs a Stripe emulator and hands the web process every Stripe setting it needs', async () => {
    const stripe = (await start(startStripeDevServices))!;

    expect(stripe.env).toMatchObject({
      STRIPE_SECRET_KEY: expect.stringMatching(/^sk_test_/),
      STRIPE_APP_SECRET: expect.stringMatching(/^absec_/),
      STRIPE_WEBHOOK_SECRET: expect.stringMatching(/^whsec_/),
      STRIPE_REDIRECT_URL: `${publicUrl}/dev/dashboard`,
    });
    const find = await fetch(`${stripe.env.STRIPE_API_BASE}/v1/apps/secrets/find?name=x&scope[type]=account`, {
      headers: { authorization: `Bearer ${stripe.env.STRIPE_SECRET_KEY}` },
    });
    expect(find.status).toBe(404);
    expect(stripe.banner.join('\n')).toContain(stripe.env.STRIPE_APP_SECRET);
  });

  test('keeps its dev secrets in the data directory, so a restart gets the same ones', async () => {
    const first = (await start(startStripeDevServices))!;
    await first.stop();
    const second = (await start(startStripeDevServices))!;

    expect(second.env.STRIPE_APP_SECRET).toBe(first.env.STRIPE_APP_SECRET);
    expect(second.env.STRIPE_SECRET_KEY).toBe(first.env.STRIPE_SECRET_KEY);
    expect(statSync(path.join(dataDir, 'dev-secrets.json')).mode & 0o077).toBe(0);
  });

  test('runs the local OpenID provider registered with hooklane\'s callback', async () => {
    const oidc = (await start(startOAuthDevServices))!;

    expect(oidc.env.OAUTH_REDIRECT_URI).toBe(`${publicUrl}/api/oauth/authorize`);
    const discovery = await fetch(`${oidc.env.OAUTH_ISSUER}/.well-known/openid-configuration`);
    expect(discovery.status).toBe(200);
    expect(((await discovery.json()) as { code_challenge_methods_supported: string[] }).code_challenge_methods_supported).toEqual(['S256']);
  });

  test('the env both produce is a valid hooklane config', async () => {
    const stripe = (await start(startStripeDevServices))!;
    const oidc = (await start(startOAuthDevServices, { ...stripe.env }))!;

    const config = loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379', ...stripe.env, ...oidc.env });

    expect(config.OAUTH_ISSUER).toBe(oidc.env.OAUTH_ISSUER);
    expect(config.STRIPE_API_BASE).toBe(stripe.env.STRIPE_API_BASE);
  });

  test('with a real provider configured, no local provider is started', async () => {
    expect(await start(startOAuthDevServices, { OAUTH_ISSUER: 'https://accounts.example.com' })).toBeUndefined();
  });

  test('with a real Stripe key, no emulator is started and STRIPE_API_BASE is left alone', async () => {
    const stripe = (await start(startStripeDevServices, { STRIPE_SECRET_KEY: 'sk_test_real', STRIPE_APP_SECRET: 'absec_real' }))!;

    expect(stripe.env.STRIPE_API_BASE).toBeUndefined();
    expect(stripe.env.STRIPE_SECRET_KEY).toBeUndefined();
    expect(stripe.env.STRIPE_APP_SECRET).toBeUndefined();
  });

  test('is refused with NODE_ENV=production', async () => {
    await expect(start(startStripeDevServices, { NODE_ENV: 'production' })).rejects.toThrow(/production/);
    await expect(start(startOAuthDevServices, { NODE_ENV: 'production' })).rejects.toThrow(/production/);
  });
});
