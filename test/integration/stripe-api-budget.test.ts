import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { startStripeEmulator, type StripeEmulator } from '../../src/dev/stripe-emulator';
import { buildStripeEvent } from '../../src/dev/stripe-event-builder';
import { StripeApiBudget } from '../../src/stripe/stripe-api-budget';
import { createStripeClient } from '../../src/stripe/stripe-client';
import { StripeFetcher } from '../../src/stripe/stripe-fetcher';
import { startRedis, type TestRedis } from '../support/redis';

const KEY = 'sk_test_budget0001';
let server: TestRedis;
let emulator: StripeEmulator;
let connections: Redis[];
let prefix: string;

beforeAll(async () => {
  server = await startRedis({ appendOnly: false });
});
afterAll(async () => {
  await server.destroy();
});
beforeEach(async () => {
  emulator = await startStripeEmulator({ secretKey: KEY });
  connections = [];
  prefix = `test-${randomUUID()}`;
});
afterEach(async () => {
  connections.forEach((c) => c.disconnect());
  await emulator.stop();
});

/** One worker process: its own Redis connection, Stripe client (no retries of its own) and fetcher. */
function worker(perSecond: number) {
  const redis = new Redis(server.url, { maxRetriesPerRequest: null });
  connections.push(redis);
  const stripe = createStripeClient({ STRIPE_SECRET_KEY: KEY, STRIPE_API_BASE: emulator.url, STRIPE_API_TIMEOUT_MS: 5000 }, { maxNetworkRetries: 0 });
  const budget = new StripeApiBudget(redis, { perSecond, keyPrefix: prefix });
  return { budget, fetcher: new StripeFetcher(stripe, budget, redis, prefix) };
}

describe('the Stripe API budget shared through Redis', () => {
  test('three workers over Stripe\'s limit together never send more than the budget per second, and Stripe refuses none', async () => {
    emulator.rateLimit.perSecond = 4;
    const events = Array.from({ length: 18 }, () => emulator.events.add(buildStripeEvent('customer.created')));
    const workers = [worker(4), worker(4), worker(4)];

    const fetched = await Promise.all(events.map((e, i) => workers[i % 3]!.fetcher.snapshotEvent(e.id)));

    expect(fetched.map((e) => e.id)).toEqual(events.map((e) => e.id));
    expect(emulator.rateLimit.refused).toBe(0);
    expect(emulator.rateLimit.peakPerSecond).toBeLessThanOrEqual(4);
    expect(await workers[0]!.budget.usage()).toMatchObject({ perSecond: 4, sent: 18, rateLimited: 0 });
  });

  test('when Stripe answers 429 (its limit below the budget), the call backs off, gives its slot back, and succeeds', async () => {
    emulator.rateLimit.perSecond = 2;
    const events = Array.from({ length: 6 }, () => emulator.events.add(buildStripeEvent('customer.created')));
    const { budget, fetcher } = worker(6);

    const fetched = await Promise.all(events.map((e) => fetcher.snapshotEvent(e.id)));

    expect(fetched).toHaveLength(6);
    expect(emulator.rateLimit.refused).toBeGreaterThan(0);
    const usage = await budget.usage();
    expect(usage.rateLimited).toBe(emulator.rateLimit.refused);
    expect(usage.sent).toBe(emulator.rateLimit.admitted + emulator.rateLimit.refused);
  });

  test('concurrent fetches of the same object share one request, in one process and across processes', async () => {
    const snapshot = buildStripeEvent('customer.created');
    const notification = emulator.events.addThinFor(snapshot);
    const [a, b] = [worker(10), worker(10)];

    const inProcess = await Promise.all(Array.from({ length: 10 }, () => a.fetcher.relatedObject(notification)));
    const otherProcess = await b.fetcher.relatedObject(notification);

    expect(new Set(inProcess.map((o) => o?.id))).toEqual(new Set([(snapshot.data.object as { id: string }).id]));
    expect(otherProcess).toEqual(inProcess[0]);
    expect(emulator.rateLimit.admitted).toBe(1);
  });
});
