import { randomBytes } from 'node:crypto';
import type { Browser } from 'playwright-core';
import { devDashboardRoutes } from '../../src/dev/dashboard-page';
import { freePort } from '../../src/dev/embedded-redis';
import { startOidcProvider, type OidcProvider } from '../../src/dev/oidc-provider';
import { startStripeEmulator, type StripeEmulator } from '../../src/dev/stripe-emulator';
import { createApp } from '../../src/web/app';
import { startTestApp, type TestApp } from '../support/app';
import { startRedis, type TestRedis } from '../support/redis';
import { launchChromium, screenshot } from './support/browser';

jest.setTimeout(60_000);

/**
 * `npm start`'s sign-in in a real browser, over plain http://localhost as locally: the sign-in cookie is
 * `Secure`, and browsers accept Secure cookies from localhost, so the callback finds it and connects.
 */
let redis: TestRedis;
let provider: OidcProvider;
let stripe: StripeEmulator;
let app: TestApp;
let browser: Browser;
let publicUrl: string;

beforeAll(async () => {
  const port = await freePort();
  publicUrl = `http://localhost:${port}`;
  const clientSecret = randomBytes(16).toString('hex');
  const secretKey = `sk_test_${randomBytes(12).toString('hex')}`;
  [redis, provider, stripe, browser] = await Promise.all([
    startRedis({ appendOnly: false }),
    startOidcProvider({
      clientId: 'hooklane-dev',
      clientSecret,
      redirectUris: [`${publicUrl}/api/oauth/authorize`],
      cookieKey: randomBytes(16).toString('hex'),
      demoPassword: 'demo',
    }),
    startStripeEmulator({ secretKey }),
    launchChromium(),
  ]);
  const env = {
    NODE_ENV: 'development',
    STRIPE_SECRET_KEY: secretKey,
    STRIPE_API_BASE: stripe.url,
    STRIPE_APP_SECRET: `absec_${randomBytes(12).toString('hex')}`,
    STRIPE_REDIRECT_URL: `${publicUrl}/dev/dashboard`,
    OAUTH_ISSUER: provider.issuer,
    OAUTH_CLIENT_ID: 'hooklane-dev',
    OAUTH_CLIENT_SECRET: clientSecret,
    OAUTH_REDIRECT_URI: `${publicUrl}/api/oauth/authorize`,
  };
  app = await startTestApp(redis.url, env, {
    port,
    listener: (deps) => createApp({ ...deps, devRoutes: devDashboardRoutes(deps.config) }),
  });
});

afterAll(async () => {
  await browser?.close();
  await app?.close();
  await Promise.all([provider?.stop(), stripe?.stop(), redis?.destroy()]);
});

test('signing in from the dev dashboard over http://localhost connects the demo user (the Secure sign-in cookie works locally)', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  try {
    await page.goto(`${publicUrl}/dev/dashboard`);
    await page.locator('#signIn').click();

    await page.getByLabel('Password').fill('demo');
    const cookies = await context.cookies(`${publicUrl}/api/oauth/authorize`);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Allow' }).click();

    await page.locator('#connectedUser').filter({ hasText: 'demo@example.com' }).waitFor();
    expect(page.url()).toBe(`${publicUrl}/dev/dashboard`);
    const loginCookie = cookies.find((c) => c.name.startsWith('hooklane_login_'));
    expect(loginCookie).toMatchObject({ secure: true, httpOnly: true, sameSite: 'Lax', path: '/api/oauth' });
    // The callback cleared it.
    expect((await context.cookies(`${publicUrl}/api/oauth/authorize`)).filter((c) => c.name.startsWith('hooklane_login_'))).toEqual([]);
  } catch (err) {
    await screenshot(page, 'dev-sign-in-failed');
    throw err;
  } finally {
    await context.close();
  }
});
