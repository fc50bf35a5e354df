import { devDashboardRoutes } from '../../src/dev/dashboard-page';
import { startStripeEmulator, type StripeEmulator } from '../../src/dev/stripe-emulator';
import { createApp } from '../../src/web/app';
import { startRedis, type TestRedis } from '../support/redis';
import { startTestApp, type TestApp } from '../support/app';

const APP_SECRET = 'absec_devdashboardtest';
const stripeAppEnv = {
  STRIPE_SECRET_KEY: 'sk_test_unused',
  STRIPE_APP_SECRET: APP_SECRET,
  STRIPE_REDIRECT_URL: 'https://dashboard.stripe.com/test',
  OAUTH_ISSUER: 'https://provider.invalid',
  OAUTH_CLIENT_ID: 'hooklane',
  OAUTH_CLIENT_SECRET: 'secret',
  OAUTH_REDIRECT_URI: 'https://hooklane.invalid/api/oauth/authorize',
};
let redis: TestRedis;
let stripe: StripeEmulator;
let app: TestApp | undefined;

beforeAll(async () => {
  [redis, stripe] = await Promise.all([startRedis({ appendOnly: false }), startStripeEmulator({ secretKey: 'sk_test_unused' })]);
});
afterAll(async () => {
  await Promise.all([redis.destroy(), stripe.stop()]);
});
afterEach(async () => {
  await app?.close();
  app = undefined;
});

describe('the dev page that plays the Stripe Dashboard', () => {
  test('serves the page and its script, and signs calls the Stripe App routes accept', async () => {
    // As web/main.ts builds it when npm start's supervisor sets DEV_ROUTES (test/integration/dev-routes.test.ts runs that).
    app = await startTestApp(
      redis.url,
      { ...stripeAppEnv, STRIPE_API_BASE: stripe.url },
      { listener: (deps) => createApp({ ...deps, devRoutes: devDashboardRoutes(deps.config) }) },
    );
    const ids = { userId: 'usr_dev', accountId: 'acct_dev' };

    const page = await fetch(`${app.url}/dev/dashboard`);
    const script = await fetch(`${app.url}/dev/dashboard/app.js`);
    const signing = await fetch(`${app.url}/dev/dashboard/signature?${new URLSearchParams(ids)}`);
    const { signature } = (await signing.json()) as { signature: string };
    const userinfo = await fetch(`${app.url}/api/oauth/userinfo`, {
      headers: { 'stripe-signature': signature, 'stripe-user-id': ids.userId, 'stripe-account-id': ids.accountId },
    });

    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<script src="/dev/dashboard/app.js">');
    expect(script.headers.get('content-type')).toContain('javascript');
    // Past the signature check: nobody is connected yet (a bad signature would be 400).
    expect(userinfo.status).toBe(401);
    expect(((await userinfo.json()) as { code: string }).code).toBe('OAUTH_NOT_CONNECTED');
  });

  test('is not there when the entry point does not mount it (production)', async () => {
    app = await startTestApp(redis.url, {
      ...stripeAppEnv,
      NODE_ENV: 'production',
      ADMIN_TOKEN: 'a'.repeat(32),
      STRIPE_WEBHOOK_SECRET: 'whsec_test',
    });

    const page = await fetch(`${app.url}/dev/dashboard`);
    const signing = await fetch(`${app.url}/dev/dashboard/signature?userId=u&accountId=a`);

    expect(page.status).toBe(404);
    expect(signing.status).toBe(404);
    expect(await page.text()).not.toContain('development stand-in');
    expect(await signing.text()).not.toContain('"signature"');
  });
});
