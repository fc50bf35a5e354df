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

/**
 * One worker process: its own Redis connection, Stripe client (no retries of its own) and fetcher. The
 * emulator runs in this process beside five "workers": on a loaded machine this process's event loop can hold
 * a request back longer than production's 50 ms margin, so the tests give the budget 400 ms (what it counts is
 * the same; only how long an unanswered request is assumed to take to arrive).
 */
function worker(perSecond: number) {
  const redis = new Redis(server.url, { maxRetriesPerRequest: null });
  connections.push(redis);
  const stripe = createStripeClient({ STRIPE_SECRET_KEY: KEY, STRIPE_API_BASE: emulator.url, STRIPE_API_TIMEOUT_MS: 5000 }, { maxNetworkRetries: 0 });
  const budget = new StripeApiBudget(redis, { perSecond, keyPrefix: prefix, sendDelayBoundMs: 400 });
  return { budget, fetcher: new StripeFetcher(stripe, budget, redis, prefix) };
}

describe('the Stripe API budget shared through Redis', () => {
  test('five workers over Stripe\'s limit together never send more than the budget in any second Stripe counts, and Stripe refuses none', async () => {
    emulator.rateLimit.perSecond = 4;
    const events = Array.from({ length: 20 }, () => emulator.events.add(buildStripeEvent('customer.created')));
    const workers = [worker(4), worker(4), worker(4), worker(4), worker(4)];

    const fetched = await Promise.all(events.map((e, i) => workers[i % 5]!.fetcher.snapshotEvent(e.id)));

    expect(fetched.map((e) => e.id)).toEqual(events.map((e) => e.id));
    expect(emulator.rateLimit.refused).toBe(0);
    expect(emulator.rateLimit.peakPerSecond).toBeLessThanOrEqual(4);
    expect(await workers[0]!.budget.usage()).toMatchObject({ perSecond: 4, sent: 20, rateLimited: 0 });
  });

  test('callers waiting for the budget sleep until their own turn: one acquire each and few confirmations, no polling', async () => {
    emulator.rateLimit.perSecond = 5;
    const events = Array.from({ length: 15 }, () => emulator.events.add(buildStripeEvent('customer.created')));
    const workers = [worker(5), worker(5), worker(5)];
    const calls = workers.map(({ budget }) => {
      const redis = connections[workers.findIndex((w) => w.budget === budget)] as unknown as Record<string, (...args: unknown[]) => Promise<number>>;
      return { acquire: jest.spyOn(redis, 'hooklaneBudgetAcquire'), send: jest.spyOn(redis, 'hooklaneBudgetSend') };
    });

    await Promise.all(events.map((e, i) => workers[i % 3]!.fetcher.snapshotEvent(e.id)));

    const acquires = calls.reduce((n, c) => n + c.acquire.mock.calls.length, 0);
    const sends = calls.reduce((n, c) => n + c.send.mock.calls.length, 0);
    // 15 requests at 5/s: the last waits about 2 s, which a caller polling every 10 ms would spend in some 200 calls.
    expect(acquires).toBe(15);
    expect(sends).toBeGreaterThanOrEqual(10);
    expect(sends).toBeLessThanOrEqual(30);
    expect(emulator.rateLimit.admitted).toBe(15);
    expect(emulator.rateLimit.refused).toBe(0);
  });

  test('a 429 gives its request back to the budget and pauses every worker', async () => {
    const { budget } = worker(2);
    const other = worker(2).budget;
    const rateLimited = Object.assign(new Error('Request rate limit exceeded.'), { statusCode: 429 });
    const once = new StripeApiBudget(connections[0]!, { perSecond: 2, keyPrefix: prefix, maxRateLimited: 1 });

    await expect(once.run(() => Promise.reject(rateLimited))).rejects.toBe(rateLimited);

    expect(await other.usage()).toMatchObject({ inUse: 0, paused: true, sent: 1, rateLimited: 1 });
    expect(await budget.run(() => Promise.resolve('served after the pause'))).toBe('served after the pause');
    expect(await other.usage()).toMatchObject({ inUse: 1, sent: 2, rateLimited: 1 });
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
