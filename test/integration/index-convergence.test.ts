import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { eventIndexFor, type EventIndex } from '../../src/events/event-index';
import type { EventRecord } from '../../src/events/event-record';
import { QUEUE_NAMES } from '../../src/queues';
import { startTestApp, type TestApp } from '../support/app';
import { startWorker, type RunningProcess } from '../support/processes';
import { startRedis, type TestRedis } from '../support/redis';
import { deliver, fixtureEvent, WEBHOOK_SECRET } from './webhooks-support';

/**
 * The event index converges after a worker is SIGKILLed with status writes still pending: the real worker
 * entry point (dist/worker/main.js), a real Redis, real webhooks. `npm test` builds dist/ first.
 */
const SWEEP_INTERVAL_MS = 500;
const SWEEP_AFTER_MS = 1000;
/** The stated bound (README, "Event index"): INDEX_SWEEP_AFTER_MS + 2 × INDEX_SWEEP_INTERVAL_MS. */
const BOUND_MS = SWEEP_AFTER_MS + 2 * SWEEP_INTERVAL_MS;
// Room for a machine busy with other suites: starting a process and polling take time the bound does not count.
const MARGIN_MS = 15_000;

const FINAL = new Set(['succeeded', 'ignored', 'failed', 'lost']);

async function waitUntil<T>(what: string, read: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('event index convergence after a worker SIGKILL', () => {
  let redis: TestRedis;
  let app: TestApp;
  let index: EventIndex;
  let queue: Queue;
  const workers: RunningProcess[] = [];
  const prefix = `test-${randomUUID()}`;
  const env = () => ({ REDIS_URL: redis.url, QUEUE_PREFIX: prefix, STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET, WORKER_SANDBOX: 'none' });

  beforeAll(async () => {
    redis = await startRedis();
    app = await startTestApp(redis.url, { QUEUE_PREFIX: prefix, STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET });
    index = eventIndexFor(app.deps.redis, app.deps.config);
    queue = app.deps.queues[QUEUE_NAMES.stripeEvents];
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.kill('SIGKILL')));
    await queue?.obliterate({ force: true }).catch(() => undefined);
    await app?.close();
    await redis?.destroy();
  });

  it('when a worker is SIGKILLed right after its jobs complete, before its status writes, the index catches up within the bound', async () => {
    // The victim holds its status writes for a minute (so they are pending when it dies) and checks no record
    // itself in that time; its sweep lock, if it holds it when killed, lives one short interval.
    const victim = await startWorker({ ...env(), EVENT_STATUS_FLUSH_MS: '60000', INDEX_SWEEP_INTERVAL_MS: String(SWEEP_INTERVAL_MS), INDEX_SWEEP_AFTER_MS: '600000' });
    workers.push(victim);
    const handled = ['customer.created', 'payment_intent.succeeded'].map((type) => fixtureEvent(type));
    const unhandled = [fixtureEvent('plan.created'), fixtureEvent('product.created')];
    for (const { payload } of [...handled, ...unhandled]) expect((await deliver(app.url, payload)).status).toBe(200);
    const ids = [...handled, ...unhandled].map(({ event }) => event.id);

    await waitUntil('every job completed in BullMQ', async () => {
      const states = await Promise.all(ids.map((id) => queue.getJobState(id)));
      return states.every((s) => s === 'completed') ? true : undefined;
    }, 30_000);
    // The precondition: BullMQ says completed, the index does not know yet.
    const before = await Promise.all(ids.map((id) => index.get(id)));
    expect(before.map((r) => r?.status)).toEqual(ids.map(() => 'queued'));
    await victim.kill('SIGKILL');

    const successor = await startWorker({ ...env(), INDEX_SWEEP_INTERVAL_MS: String(SWEEP_INTERVAL_MS), INDEX_SWEEP_AFTER_MS: String(SWEEP_AFTER_MS) });
    workers.push(successor);
    const records = await waitUntil('every record final', async () => {
      const found = await Promise.all(ids.map((id) => index.get(id)));
      return found.every((r) => r && FINAL.has(r.status)) ? (found as EventRecord[]) : undefined;
    }, BOUND_MS + MARGIN_MS);

    expect(records.map((r) => ({ id: r.id, status: r.status, attempts: r.attempts, lastError: r.lastError }))).toEqual([
      ...handled.map(({ event }) => ({ id: event.id, status: 'succeeded', attempts: 1, lastError: null })),
      ...unhandled.map(({ event }) => ({ id: event.id, status: 'ignored', attempts: 1, lastError: null })),
    ]);
  }, 90_000);
});
