import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { freePort } from '../../src/dev/embedded-redis';
import { startOidcProvider } from '../../src/dev/oidc-provider';
import { startRedis, type TestRedis } from '../support/redis';
import { startTestApp, type TestApp } from '../support/app';
import { Browser, REDIRECT_URI, STRIPE_REDIRECT_URL, loginUrl, newDashboardUser } from './oauth-support';

const APP_SECRET = `absec_${randomBytes(8).toString('hex')}`;
let redis: TestRedis;
let app: TestApp | undefined;

beforeAll(async () => {
  redis = await startRedis({ appendOnly: false });
});
afterAll(async () => {
  await redis.destroy();
});
afterEach(async () => {
  await app?.close();
  app = undefined;
});

/** An address where nothing listens: what a provider outage looks like from here. */
async function deadUrl(): Promise<string> {
  return `http://127.0.0.1:${await freePort()}`;
}

const baseEnv = {
  STRIPE_SECRET_KEY: 'sk_test_unused',
  STRIPE_APP_SECRET: APP_SECRET,
  STRIPE_REDIRECT_URL,
  OAUTH_CLIENT_ID: 'hooklane-test',
  OAUTH_CLIENT_SECRET: 'secret',
  OAUTH_REDIRECT_URI: REDIRECT_URI,
};

describe('when the authentication server cannot be reached', () => {
  test('login answers 502 Cannot contact authentication server (discovery fails)', async () => {
    app = await startTestApp(redis.url, { ...baseEnv, OAUTH_ISSUER: await deadUrl() });

    const res = await fetch(loginUrl(app.url, newDashboardUser(), APP_SECRET), { redirect: 'manual' });

    expect(res.status).toBe(502);
    expect(await res.json()).toMatchObject({ code: 'OAUTH_PROVIDER_UNREACHABLE', title: 'Cannot contact authentication server' });
  });

  test('the callback answers 502 when the token endpoint does not answer', async () => {
    const dead = await deadUrl();
    app = await startTestApp(redis.url, {
      ...baseEnv,
      OAUTH_AUTHORIZATION_ENDPOINT: `${dead}/authorize`,
      OAUTH_TOKEN_ENDPOINT: `${dead}/token`,
      OAUTH_USERINFO_ENDPOINT: `${dead}/userinfo`,
    });
    const browser = new Browser();
    const login = await browser.request(loginUrl(app.url, newDashboardUser(), APP_SECRET));
    expect(login.status).toBe(303);
    const state = new URL(login.headers.get('location')!).searchParams.get('state')!;

    const res = await browser.request(`${app.url}/api/oauth/authorize?code=abc&state=${state}`);

    expect(res.status).toBe(502);
    expect(await res.json()).toMatchObject({ code: 'OAUTH_PROVIDER_UNREACHABLE', title: 'Cannot contact authentication server' });
  });

  test('the callback answers 502 when the token endpoint fails with a server error', async () => {
    const failing = createServer((_req, res) => {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'server_error', error_description: 'database down' }));
    });
    await new Promise<void>((resolve) => failing.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(failing.address() as AddressInfo).port}`;
    try {
      app = await startTestApp(redis.url, {
        ...baseEnv,
        OAUTH_AUTHORIZATION_ENDPOINT: `${base}/authorize`,
        OAUTH_TOKEN_ENDPOINT: `${base}/token`,
        OAUTH_USERINFO_ENDPOINT: `${base}/userinfo`,
      });
      const browser = new Browser();
      const login = await browser.request(loginUrl(app.url, newDashboardUser(), APP_SECRET));
      const state = new URL(login.headers.get('location')!).searchParams.get('state')!;

      const res = await browser.request(`${app.url}/api/oauth/authorize?code=abc&state=${state}`);

      expect(res.status).toBe(502);
      expect(((await res.json()) as { code: string }).code).toBe('OAUTH_PROVIDER_UNREACHABLE');
    } finally {
      failing.closeAllConnections();
      await new Promise<void>((resolve) => failing.close(() => resolve()));
    }
  });

  test('a provider that comes back is used without restarting hooklane', async () => {
    // The local provider names itself http://localhost:<port>; discovery insists the issuer matches.
    const issuer = `http://localhost:${await freePort()}`;
    app = await startTestApp(redis.url, { ...baseEnv, OAUTH_ISSUER: issuer });
    const first = await fetch(loginUrl(app.url, newDashboardUser(), APP_SECRET), { redirect: 'manual' });
    expect(first.status).toBe(502);

    const provider = await startOidcProvider({
      port: Number(new URL(issuer).port),
      clientId: 'hooklane-test',
      clientSecret: 'secret',
      redirectUris: [REDIRECT_URI],
      cookieKey: 'cookie-key-for-tests',
      demoPassword: 'demo',
    });
    try {
      const second = await fetch(loginUrl(app.url, newDashboardUser(), APP_SECRET), { redirect: 'manual' });
      expect(second.status).toBe(303);
      expect(second.headers.get('location')).toContain(`localhost:${new URL(issuer).port}`);
    } finally {
      await provider.stop();
    }
  });
});

describe('when the Stripe App is not configured (outside production)', () => {
  test('its routes answer 503 naming the missing keys, and the rest of the app works', async () => {
    app = await startTestApp(redis.url, {});

    const res = await fetch(`${app.url}/api/oauth/userinfo`);
    const health = await fetch(`${app.url}/healthz`);

    expect(res.status).toBe(503);
    const body = (await res.json()) as { code: string; detail: string };
    expect(body.code).toBe('STRIPE_APP_NOT_CONFIGURED');
    expect(body.detail).toContain('STRIPE_APP_SECRET');
    expect(health.status).toBe(200);
  });
});
