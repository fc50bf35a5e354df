import { randomUUID } from 'node:crypto';
import { Queue, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import pino from 'pino';
import { buildStripeEvent } from '../../src/dev/stripe-event-builder';
import { EventIndex, type StatusUpdate } from '../../src/events/event-index';
import { summariseEvent, type EventRecord } from '../../src/events/event-record';
import { defineHandler, HandlerRegistry, malformed } from '../../src/worker/handlers/handler-registry';
import { EventStatusRecorder, recordEventStatuses } from '../../src/worker/event-status-recorder';
import { runStripeEvent } from '../../src/worker/processors/stripe-event';
import { startRedis, type TestRedis } from '../support/redis';

const silent = pino({ level: 'silent' });

/** Polls the index until the record matches `expected` (the recorder writes a few ms after the job moved). */
async function waitForRecord(index: EventIndex, id: string, expected: Partial<EventRecord>, timeoutMs = 15_000): Promise<EventRecord> {
  const deadline = Date.now() + timeoutMs;
  let last: EventRecord | undefined;
  while (Date.now() < deadline) {
    last = await index.get(id);
    if (last && Object.entries(expected).every(([k, v]) => last![k as keyof EventRecord] === v)) return last;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`record ${id} never matched ${JSON.stringify(expected)}; last ${JSON.stringify(last)}`);
}

describe('the event status recorder with a real BullMQ worker', () => {
  let server: TestRedis;
  let redis: Redis;
  let index: EventIndex;
  let queue: Queue;
  let worker: Worker | undefined;
  let workerConnection: Redis | undefined;
  let prefix: string;

  let releaseSlow = () => {};
  const handlers = new HandlerRegistry([
    defineHandler('customer.created', async () => ({ ok: true })),
    defineHandler('invoice.paid', () => new Promise((resolve) => (releaseSlow = () => resolve({ ok: true })))),
    defineHandler('customer.updated', async () => {
      throw new Error('CRM timed out');
    }),
    defineHandler('customer.deleted', async () => {
      throw malformed('no customer');
    }),
    defineHandler('invoice.created', async (_event, ctx) => {
      if (ctx.attempt === 1) throw new Error('CRM busy');
      return { ok: true };
    }),
  ]);

  // These tests deliver snapshot events only: nothing is fetched from Stripe.
  const noStripe = {
    snapshotEvent: () => Promise.reject(new Error('not fetched in this test')),
    thinEvent: () => Promise.reject(new Error('not fetched in this test')),
    relatedObject: async () => null,
  };
  const startWorker = () => {
    const recorder = new EventStatusRecorder(index, silent);
    workerConnection = redis.duplicate({ maxRetriesPerRequest: null });
    worker = new Worker('stripe-events', (job: Job) => runStripeEvent(job, { handlers, services: { deleteAccountSecrets: async () => ({ users: 0, accountGone: false }), recordHealthAlert: async () => undefined, stripe: noStripe }, logger: silent }), {
      connection: workerConnection,
      prefix,
      concurrency: 4,
    });
    recordEventStatuses(worker, recorder);
    return recorder;
  };

  const accept = async (type: string, opts: { attempts?: number; backoff?: number } = {}) => {
    const event = buildStripeEvent(type);
    await queue.add(type, event, { jobId: event.id, attempts: opts.attempts ?? 1, ...(opts.backoff ? { backoff: { type: 'fixed', delay: opts.backoff } } : {}) });
    await index.record(summariseEvent(event), JSON.stringify(event));
    return event;
  };

  beforeAll(async () => {
    server = await startRedis({ appendOnly: false });
    redis = new Redis(server.url, { maxRetriesPerRequest: null });
  });
  beforeEach(() => {
    prefix = `test-${randomUUID()}`;
    index = new EventIndex(redis, { QUEUE_PREFIX: prefix, EVENT_INDEX_RETENTION_DAYS: 30, EVENT_INDEX_MAX_EVENTS: 1000 });
    queue = new Queue('stripe-events', { connection: redis, prefix });
  });
  afterEach(async () => {
    await worker?.close();
    workerConnection?.disconnect();
    worker = undefined;
    await queue.obliterate({ force: true });
    await queue.close();
  });
  afterAll(async () => {
    redis.disconnect();
    await server.destroy();
  });

  it('marks a handled event succeeded with its attempt and job id, and an unhandled one ignored', async () => {
    startWorker();
    const handled = await accept('customer.created');
    const unhandled = await accept('plan.created');
    expect(await waitForRecord(index, handled.id, { status: 'succeeded' })).toMatchObject({ attempts: 1, jobId: handled.id, lastError: null });
    expect(await waitForRecord(index, unhandled.id, { status: 'ignored' })).toMatchObject({ attempts: 1 });
    const page = await index.list({ status: 'succeeded', limit: 10 });
    expect(page.events.map((e) => e.id)).toEqual([handled.id]);
  });

  it('a thin notification\'s job updates the record it was stored under (its snapshot event id), not one named after the notification', async () => {
    startWorker();
    const snapshot = buildStripeEvent('plan.created');
    const notification = { id: 'evt_test_65statusthin', object: 'v2.core.event', type: 'v1.plan.created', created: new Date().toISOString(), snapshot_event: snapshot.id, related_object: null };
    await queue.add(notification.type, notification, { jobId: snapshot.id, attempts: 1 });
    await index.record({ ...summariseEvent(snapshot), source: 'thin', thinEventId: notification.id }, JSON.stringify(notification));

    expect(await waitForRecord(index, snapshot.id, { status: 'ignored' })).toMatchObject({ attempts: 1, source: 'thin' });
    expect(await index.get(notification.id)).toBeUndefined();
  });

  it('a job still running when statuses are written shows as processing, then as its outcome', async () => {
    startWorker();
    const event = await accept('invoice.paid');
    expect(await waitForRecord(index, event.id, { status: 'processing' })).toMatchObject({ attempts: 1, jobId: event.id });
    releaseSlow();
    expect(await waitForRecord(index, event.id, { status: 'succeeded' })).toMatchObject({ attempts: 1, jobId: event.id });
  });

  it('between retries the event is queued with the last error; after the last attempt it is failed', async () => {
    startWorker();
    const waiting = await accept('customer.updated', { attempts: 2, backoff: 60_000 });
    const exhausted = await accept('customer.updated', { attempts: 2, backoff: 10 });
    expect(await waitForRecord(index, waiting.id, { status: 'queued', attempts: 1 })).toMatchObject({ lastError: 'CRM timed out' });
    expect(await waitForRecord(index, exhausted.id, { status: 'failed' })).toMatchObject({ attempts: 2, lastError: 'CRM timed out' });
  });

  it('a retry that succeeds clears the error its first attempt left', async () => {
    startWorker();
    const event = await accept('invoice.created', { attempts: 2, backoff: 10 });
    expect(await waitForRecord(index, event.id, { status: 'succeeded' })).toMatchObject({ attempts: 2, lastError: null, jobId: event.id });
  });

  it('an UnrecoverableError fails the event at once, whatever attempts are left', async () => {
    startWorker();
    const event = await accept('customer.deleted', { attempts: 5 });
    expect(await waitForRecord(index, event.id, { status: 'failed' })).toMatchObject({ attempts: 1, lastError: 'malformed event: no customer' });
  });

  it('a replay job updates the event it replays, under the replay job id', async () => {
    startWorker();
    const event = await accept('customer.created');
    await waitForRecord(index, event.id, { status: 'succeeded' });
    await queue.add(event.type, event, { jobId: `${event.id}-replay-1` });
    expect(await waitForRecord(index, event.id, { jobId: `${event.id}-replay-1`, status: 'succeeded' })).toMatchObject({ attempts: 1 });
  });
});

describe('EventStatusRecorder batching', () => {
  const flushed = (batches: StatusUpdate[][]) => ({ setStatuses: async (batch: readonly StatusUpdate[]) => {
    batches.push([...batch]);
  } });

  it('coalesces the updates of one event (latest status, merged fields) and writes them in one batch', async () => {
    const batches: StatusUpdate[][] = [];
    const recorder = new EventStatusRecorder(flushed(batches), silent, { flushAfterMs: 60_000 });
    recorder.note('evt_a', 'processing', { attempts: 1, jobId: 'evt_a' });
    recorder.note('evt_b', 'processing', { attempts: 1, jobId: 'evt_b' });
    recorder.note('evt_a', 'succeeded', { lastError: null });
    await recorder.flush();
    expect(batches).toEqual([
      [
        { id: 'evt_b', status: 'processing', fields: { attempts: 1, jobId: 'evt_b' } },
        { id: 'evt_a', status: 'succeeded', fields: { attempts: 1, jobId: 'evt_a', lastError: null } },
      ],
    ]);
  });

  it('writes a job as processing only once it has run for flushAfterMs, by itself if nothing else comes, and once', async () => {
    // A fake clock: on a loaded machine 200 real ms can pass between two lines, and "younger than flushAfterMs"
    // is the point of the test. Promises and ticks stay real.
    jest.useFakeTimers({ doNotFake: ['nextTick', 'queueMicrotask', 'setImmediate'] });
    try {
      const batches: StatusUpdate[][] = [];
      const recorder = new EventStatusRecorder(flushed(batches), silent, { flushAfterMs: 200 });
      recorder.started('evt_slow', { attempts: 1, jobId: 'evt_slow' });
      recorder.started('evt_fast', { attempts: 2, jobId: 'evt_fast' });
      recorder.finished('evt_fast', 'ignored', { attempts: 2, jobId: 'evt_fast', lastError: null });
      // Written at once: evt_slow has run for less than 200 ms, so it is not written yet.
      await recorder.flush();
      expect(batches).toEqual([[{ id: 'evt_fast', status: 'ignored', fields: { attempts: 2, jobId: 'evt_fast', lastError: null } }]]);
      // Nothing else happens; 200 ms later the recorder writes the still-running job by itself.
      await jest.advanceTimersByTimeAsync(199);
      expect(batches).toHaveLength(1);
      await jest.advanceTimersByTimeAsync(1);
      expect(batches).toHaveLength(2);
      recorder.finished('evt_slow', 'succeeded', { attempts: 1, jobId: 'evt_slow', lastError: null });
      await recorder.flush();
      expect(batches.slice(1)).toEqual([
        [{ id: 'evt_slow', status: 'processing', fields: { attempts: 1, jobId: 'evt_slow' } }],
        [{ id: 'evt_slow', status: 'succeeded', fields: { attempts: 1, jobId: 'evt_slow', lastError: null } }],
      ]);
    } finally {
      jest.useRealTimers();
    }
  });

  it('writes by itself once maxBatch updates are waiting, in batches of at most maxBatch', async () => {
    const batches: StatusUpdate[][] = [];
    const recorder = new EventStatusRecorder(flushed(batches), silent, { flushAfterMs: 60_000, maxBatch: 3 });
    for (let i = 0; i < 7; i += 1) recorder.note(`evt_${i}`, 'ignored');
    await recorder.flush();
    expect(batches.map((b) => b.length)).toEqual([3, 3, 1]);
  });

  it('leaves updates that arrive during a write for the next batch, so the statuses of a job can still coalesce', async () => {
    const batches: StatusUpdate[][] = [];
    let release = () => {};
    let writing = () => {};
    const firstWriteStarted = new Promise<void>((resolve) => { writing = resolve; });
    const index = { setStatuses: async (batch: readonly StatusUpdate[]) => {
      batches.push([...batch]);
      if (batches.length === 1) {
        writing();
        await new Promise<void>((resolve) => { release = resolve; });
      }
    } };
    const recorder = new EventStatusRecorder(index, silent, { flushAfterMs: 60_000 });
    recorder.note('evt_a', 'processing', { attempts: 1 });
    const first = recorder.flush();
    await firstWriteStarted;
    recorder.note('evt_b', 'processing', { attempts: 1 });
    recorder.note('evt_b', 'succeeded', { lastError: null });
    release();
    await first;
    expect(batches.map((b) => b.map((u) => u.id))).toEqual([['evt_a']]);
    await recorder.flush();
    expect(batches[1]).toEqual([{ id: 'evt_b', status: 'succeeded', fields: { attempts: 1, lastError: null } }]);
  });

  it('keeps what a failed write held and writes it on the next flush; bounded while Redis is away', async () => {
    const batches: StatusUpdate[][] = [];
    let down = true;
    const index = { setStatuses: async (batch: readonly StatusUpdate[]) => {
      if (down) throw new Error('Connection is closed.');
      batches.push([...batch]);
    } };
    const recorder = new EventStatusRecorder(index, silent, { flushAfterMs: 60_000, maxPending: 2 });
    recorder.note('evt_1', 'succeeded');
    await recorder.flush();
    recorder.note('evt_2', 'succeeded');
    recorder.note('evt_3', 'succeeded');
    down = false;
    await recorder.flush();
    expect(batches.flat().map((u) => u.id)).toEqual(['evt_2', 'evt_3']);
  });
});
