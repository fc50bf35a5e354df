import { randomBytes } from 'node:crypto';
import { eventIndexFor } from '../../src/events/event-index';
import { startRedis, type TestRedis } from '../support/redis';
import { startTestApp, type TestApp } from '../support/app';
import { STRIPE_REDIRECT_URL, newDashboardUser, signedHeaders, type DashboardUser } from './oauth-support';

const APP_SECRET = `absec_${randomBytes(8).toString('hex')}`;
let redis: TestRedis;
let app: TestApp;

beforeAll(async () => {
  redis = await startRedis({ appendOnly: false });
});
afterAll(async () => {
  await redis.destroy();
});
beforeEach(async () => {
  app = await startTestApp(redis.url, {
    STRIPE_SECRET_KEY: 'sk_test_unused',
    STRIPE_APP_SECRET: APP_SECRET,
    STRIPE_REDIRECT_URL,
    OAUTH_ISSUER: 'http://127.0.0.1:9',
    OAUTH_CLIENT_ID: 'hooklane-test',
    OAUTH_CLIENT_SECRET: 'secret',
    OAUTH_REDIRECT_URI: 'http://hooklane.test/api/oauth/authorize',
  });
});
afterEach(async () => {
  await app.close();
});

/** Records an event the way webhook intake does, through the real event index of this app. */
async function indexEvent(fields: { type: string; account: string | null; objectId: string; created: number }) {
  const index = eventIndexFor(app.deps.redis, app.deps.config);
  const id = `evt_${randomBytes(8).toString('hex')}`;
  await index.record({ id, ...fields }, JSON.stringify({ id, type: fields.type }));
  return { id, index };
}

function status(paymentIntentId: string, user: DashboardUser): Promise<Response> {
  return fetch(`${app.url}/api/app/payments/${paymentIntentId}/status`, { headers: signedHeaders(user, APP_SECRET) });
}

describe('GET /api/app/payments/:paymentIntentId/status', () => {
  test('lists how hooklane processed the payment\'s events for the caller\'s account', async () => {
    const user = newDashboardUser();
    const pi = `pi_${randomBytes(8).toString('hex')}`;
    const first = await indexEvent({ type: 'payment_intent.created', account: user.accountId, objectId: pi, created: 1_700_000_000 });
    const second = await indexEvent({ type: 'payment_intent.succeeded', account: user.accountId, objectId: pi, created: 1_700_000_060 });
    await second.index.setStatus(second.id, 'failed', { attempts: 3, lastError: 'CRM timed out' });

    const res = await status(pi, user);

    expect(res.status).toBe(200);
    const body = (await res.json()) as { paymentIntentId: string; events: Record<string, unknown>[] };
    expect(body.paymentIntentId).toBe(pi);
    expect(body.events.map((e) => e.id).sort()).toEqual([first.id, second.id].sort());
    expect(body.events.find((e) => e.id === second.id)).toEqual({
      id: second.id,
      type: 'payment_intent.succeeded',
      status: 'failed',
      attempts: 3,
      lastError: 'CRM timed out',
      created: new Date(1_700_000_060_000).toISOString(),
      receivedAt: expect.any(String),
    });
  });

  test('another account\'s events about the same id are not shown: 404', async () => {
    const pi = `pi_${randomBytes(8).toString('hex')}`;
    await indexEvent({ type: 'payment_intent.succeeded', account: 'acct_someoneelse', objectId: pi, created: 1_700_000_000 });

    const res = await status(pi, newDashboardUser());

    expect(res.status).toBe(404);
    expect(((await res.json()) as { code: string }).code).toBe('PAYMENT_NOT_FOUND');
  });

  test('an unsigned call is refused with 400 and a malformed id with 400', async () => {
    const unsigned = await fetch(`${app.url}/api/app/payments/pi_123/status`);
    const malformed = await status('ch_123', newDashboardUser());

    expect(unsigned.status).toBe(400);
    expect(((await unsigned.json()) as { code: string }).code).toBe('STRIPE_APP_MISSING_IDENTIFIERS');
    expect(malformed.status).toBe(400);
  });
});
