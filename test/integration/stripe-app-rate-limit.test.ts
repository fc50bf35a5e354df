import { randomBytes, randomUUID } from 'node:crypto';
import { startRedis, type TestRedis } from '../support/redis';
import { startTestApp, type TestApp } from '../support/app';
import { STRIPE_REDIRECT_URL, newDashboardUser, signedHeaders, type DashboardUser } from './oauth-support';

const APP_SECRET = `absec_${randomBytes(8).toString('hex')}`;
// Stripe's API and the OAuth provider on closed loopback ports: calls that get past the limiters fail fast
// and locally; what is asserted is which calls the limiters refuse before any of that.
const STRIPE_APP_ENV = {
  STRIPE_SECRET_KEY: 'sk_test_unused',
  STRIPE_API_BASE: 'http://127.0.0.1:9',
  STRIPE_APP_SECRET: APP_SECRET,
  STRIPE_REDIRECT_URL,
  OAUTH_ISSUER: 'http://127.0.0.1:9',
  OAUTH_CLIENT_ID: 'hooklane-test',
  OAUTH_CLIENT_SECRET: 'secret',
  OAUTH_REDIRECT_URI: 'http://hooklane.test/api/oauth/authorize',
};

let redis: TestRedis;
const apps: TestApp[] = [];

/** Two web instances sharing one Redis and one queue prefix, as behind the ALB. */
async function startTwoInstances(limits: Record<string, string>): Promise<[TestApp, TestApp]> {
  const env = { ...STRIPE_APP_ENV, QUEUE_PREFIX: `test-${randomUUID()}`, ...limits };
  const pair: [TestApp, TestApp] = [await startTestApp(redis.url, env), await startTestApp(redis.url, env)];
  apps.push(...pair);
  return pair;
}

beforeAll(async () => {
  redis = await startRedis({ appendOnly: false });
});
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});
afterAll(async () => {
  await redis.destroy();
});

const paymentStatus = (app: TestApp, user: DashboardUser) =>
  fetch(`${app.url}/api/app/payments/pi_${randomBytes(6).toString('hex')}/status`, { headers: signedHeaders(user, APP_SECRET) });
const userInfo = (app: TestApp, user: DashboardUser) => fetch(`${app.url}/api/oauth/userinfo`, { headers: signedHeaders(user, APP_SECRET) });

async function statusesOf(calls: Array<() => Promise<Response>>): Promise<number[]> {
  const statuses: number[] = [];
  for (const call of calls) {
    const res = await call();
    await res.arrayBuffer();
    statuses.push(res.status);
  }
  return statuses;
}

describe('rate limits on the Stripe App routes (an installed app cannot spend the platform\'s limits)', () => {
  it('an account hammering /api/app/* gets 429 on call N+1 across two instances, whichever of its users calls; another account is unaffected', async () => {
    const [a, b] = await startTwoInstances({ STRIPE_APP_RATE_LIMIT_PER_MINUTE: '3', STRIPE_APP_USER_RATE_LIMIT_PER_MINUTE: '100' });
    const first = newDashboardUser();
    const colleague = { ...newDashboardUser(), accountId: first.accountId };
    const statuses = await statusesOf([
      () => paymentStatus(a, first),
      () => paymentStatus(b, colleague),
      () => paymentStatus(a, colleague),
      () => paymentStatus(b, first),
    ]);
    expect(statuses.slice(0, 3).every((s) => s !== 429)).toBe(true);
    expect(statuses[3]).toBe(429);

    const limited = await paymentStatus(a, first);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
    expect(limited.headers.get('ratelimit')).toContain('"stripe-app-account"; r=0');
    expect(await limited.json()).toMatchObject({ code: 'RATE_LIMITED', status: 429 });

    expect((await paymentStatus(b, newDashboardUser())).status).not.toBe(429);
  });

  it('a Dashboard user hammering /api/oauth/userinfo gets 429 on call N+1 across two instances; another user of the account is unaffected', async () => {
    const [a, b] = await startTwoInstances({ STRIPE_APP_RATE_LIMIT_PER_MINUTE: '100', STRIPE_APP_USER_RATE_LIMIT_PER_MINUTE: '2' });
    const user = newDashboardUser();
    const statuses = await statusesOf([() => userInfo(a, user), () => userInfo(b, user), () => userInfo(a, user)]);
    expect(statuses.slice(0, 2).every((s) => s !== 429)).toBe(true);
    expect(statuses[2]).toBe(429);
    expect((await userInfo(b, { ...newDashboardUser(), accountId: user.accountId })).status).not.toBe(429);
  });

  it('a call with a bad signature is refused before it counts for the account it names', async () => {
    const [a] = await startTwoInstances({ STRIPE_APP_RATE_LIMIT_PER_MINUTE: '1' });
    const victim = newDashboardUser();
    const forged = { ...signedHeaders(victim, 'absec_not-the-app-secret') };
    for (let i = 0; i < 3; i += 1) {
      const res = await fetch(`${a.url}/api/app/payments/pi_123/status`, { headers: forged });
      expect(res.status).toBe(400);
    }
    expect((await paymentStatus(a, victim)).status).not.toBe(429);
  });

  it('the sign-in routes (/api/oauth/login, /api/oauth/authorize) are limited per client IP across two instances', async () => {
    const [a, b] = await startTwoInstances({ STRIPE_APP_SIGN_IN_RATE_LIMIT_PER_MINUTE: '3' });
    // Behind the ALB (TRUST_PROXY=1) the client is the last X-Forwarded-For address; documentation addresses.
    const from = (ip: string) => ({ headers: { 'x-forwarded-for': ip }, redirect: 'manual' as const });
    const statuses = await statusesOf([
      () => fetch(`${a.url}/api/oauth/authorize?state=unknown`, from('203.0.113.7')),
      () => fetch(`${b.url}/api/oauth/login?state=%7B%7D`, from('203.0.113.7')),
      () => fetch(`${a.url}/api/oauth/authorize?state=unknown`, from('203.0.113.7')),
      () => fetch(`${b.url}/api/oauth/login?state=%7B%7D`, from('203.0.113.7')),
    ]);
    expect(statuses).toEqual([400, 400, 400, 429]);
    expect((await fetch(`${a.url}/api/oauth/authorize?state=unknown`, from('203.0.113.8'))).status).toBe(400);
  });
});
