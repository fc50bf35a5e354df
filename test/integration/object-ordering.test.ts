import { randomUUID } from 'node:crypto';
import { Queue, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import pino from 'pino';
import { EventIndex } from '../../src/events/event-index';
import { summariseEvent, type EventRecord } from '../../src/events/event-record';
import { EventStatusRecorder, recordEventStatuses } from '../../src/worker/event-status-recorder';
import { defineHandler, HandlerRegistry, type EventHandler, type HandlerContext } from '../../src/worker/handlers/handler-registry';
import { ObjectOrder, orderedEventOf, orderedRefs, orderingBase } from '../../src/worker/ordering/object-order';
import { objectOrderFor, orderingFromConfig } from '../../src/worker/ordering/ordering-runtime';
import { OrderedWorker } from '../../src/worker/ordering/lease-in-main-thread';
import { readOrderingStats } from '../../src/worker/ordering/ordering-stats';
import { runStripeEvent, type StripeEventRuntime } from '../../src/worker/processors/stripe-event';
import { metricsRegistryFor } from '../../src/metrics/prometheus';
import { parsePrometheusText, sampleValue } from '../support/prometheus-text';
import { startRedis, useRedis, type TestRedis } from '../support/redis';

const silent = pino({ level: 'silent' });
const QUEUE = 'stripe-events';

/** A snapshot event of `type` about `objectId`, created at `created` (unix seconds). */
function eventOf(type: string, objectId: string, created: number, id = `evt_${randomUUID().replace(/-/g, '')}`) {
  return { id, object: 'event', type, created, livemode: false, data: { object: { id: objectId, object: 'subscription' } } };
}

const noServices: StripeEventRuntime['services'] = {
  deleteAccountSecrets: async () => ({ users: 0, accountGone: false }),
  recordHealthAlert: async () => undefined,
  stripe: {
    snapshotEvent: () => Promise.reject(new Error('not fetched in this test')),
    thinEvent: () => Promise.reject(new Error('not fetched in this test')),
    relatedObject: async () => null,
  },
};

async function until_<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('per-object ordering with real BullMQ workers and Redis', () => {
  let server: TestRedis;
  let redis: Redis;
  let prefix: string;
  let queue: Queue;
  const workers: Worker[] = [];
  const connections: Redis[] = [];
  const config = () => ({ QUEUE_PREFIX: prefix, ORDERING_LEASE_MS: 30_000, ORDERING_STEP_ASIDE_MS: 50, ORDERING_MEMORY_HOURS: 72 });

  /** A worker like hooklane's in-process one (WORKER_SANDBOX=none): the lease in the worker, the handler in the processor. */
  function startWorker(handlers: HandlerRegistry, concurrency: number): Worker {
    const connection = redis.duplicate({ maxRetriesPerRequest: null });
    connections.push(connection);
    const index = indexOf();
    const loadPayload = (id: string) => index.payload(id);
    const rt: StripeEventRuntime = { handlers, services: noServices, logger: silent, loadPayload };
    const ordering = orderingFromConfig(config(), connection, silent, { handles: (type) => handlers.get(type) !== undefined, loadPayload });
    const worker = new OrderedWorker(QUEUE, (job: Job) => runStripeEvent(job, rt), { connection, prefix, concurrency }, ordering);
    workers.push(worker);
    return worker;
  }

  const indexOf = () => new EventIndex(redis, { QUEUE_PREFIX: prefix, EVENT_INDEX_RETENTION_DAYS: 30, EVENT_INDEX_MAX_EVENTS: 1000 });

  /**
   * As the intake mover does it: the events join their objects' waiting sets (alone on its object, an event gets
   * its lease at once), their payloads are stored, then their jobs are added, each carrying a reference.
   */
  async function enqueue(events: ReturnType<typeof eventOf>[], attempts = 3): Promise<void> {
    const refs = await orderedRefs(objectOrderFor(redis, config()), events.map((e) => ({ id: e.id, place: orderedEventOf(e, e.id) })));
    const index = indexOf();
    for (const e of events) await index.record(summariseEvent(e), JSON.stringify(e));
    await queue.addBulk(events.map((e, i) => ({ name: e.type, data: refs[i], opts: { jobId: e.id, attempts, backoff: { type: 'fixed', delay: 10 } } })));
  }

  async function finished(ids: string[]): Promise<Job[]> {
    return until_(`${ids.length} jobs to finish`, async () => {
      // State first, then the jobs: a job read before it finished would keep its old (null) returnvalue.
      const states = await Promise.all(ids.map((id) => queue.getJobState(id)));
      if (!states.every((s) => s === 'completed' || s === 'failed')) return undefined;
      return (await Promise.all(ids.map((id) => queue.getJob(id)))) as Job[];
    }, 60_000);
  }

  beforeAll(async () => {
    server = await startRedis({ appendOnly: false });
    redis = new Redis(server.url, { maxRetriesPerRequest: null });
  });
  beforeEach(() => {
    prefix = `test-${randomUUID()}`;
    queue = new Queue(QUEUE, { connection: redis, prefix });
  });
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.close()));
    for (const c of connections.splice(0)) c.disconnect();
    await queue.obliterate({ force: true });
    await queue.close();
  });
  afterAll(async () => {
    redis.disconnect();
    await server.destroy();
  });

  it('runs 200 updates of one object, shuffled across 4 workers, one at a time in created order (ties by id), spending no attempt on waiting', async () => {
    const runs: { id: string; start: number; end: number }[] = [];
    let running = 0;
    let overlaps = 0;
    let clock = 0;
    const handlers = new HandlerRegistry([
      defineHandler('customer.subscription.updated', async (event) => {
        running += 1;
        if (running > 1) overlaps += 1;
        const start = (clock += 1);
        // A real handler awaits something: let other jobs of the object try their luck meanwhile.
        await new Promise((resolve) => setImmediate(resolve));
        running -= 1;
        runs.push({ id: event.id, start, end: (clock += 1) });
        return {};
      }),
    ]);
    const base = 1_760_000_000;
    // Pairs share a second, so ties are broken by id; the ids are random, so their order is not the list's.
    const updates = Array.from({ length: 200 }, (_, i) => eventOf('customer.subscription.updated', 'sub_ordered', base + Math.floor(i / 2)));
    const expected = [...updates].sort((a, b) => a.created - b.created || (a.id < b.id ? -1 : 1)).map((e) => e.id);
    const shuffled = [...updates].sort(() => Math.random() - 0.5);
    const leaseWaits = async () => {
      const metrics = parsePrometheusText(await metricsRegistryFor('worker').metrics());
      return { count: sampleValue(metrics, 'hooklane_object_lease_wait_seconds_count') ?? 0, sum: sampleValue(metrics, 'hooklane_object_lease_wait_seconds_sum') ?? 0 };
    };
    const waitsBefore = await leaseWaits();
    await queue.pause();
    await enqueue(shuffled);
    for (let w = 0; w < 4; w += 1) startWorker(handlers, 5);
    await queue.resume();

    const jobs = await finished(updates.map((e) => e.id));

    expect(jobs.map((j) => j.returnvalue?.status)).toEqual(updates.map(() => 'succeeded'));
    expect(overlaps).toBe(0);
    expect(runs.map((r) => r.id)).toEqual(expected);
    for (let i = 1; i < runs.length; i += 1) expect(runs[i]!.start).toBeGreaterThan(runs[i - 1]!.end);
    // Stepping aside is not a failure: every job completed on its first attempt.
    expect(jobs.map((j) => j.attemptsMade)).toEqual(updates.map(() => 1));
    expect((await readOrderingStats(redis, prefix)).leaseWaits).toBeGreaterThan(0);
    expect(await redis.exists(`${orderingBase(prefix)}:wait:sub_ordered`)).toBe(0);
    // Every event's wait for its lease is observed once, when it runs; those that stepped aside waited.
    const waitsAfter = await leaseWaits();
    expect(waitsAfter.count - waitsBefore.count).toBe(200);
    expect(waitsAfter.sum).toBeGreaterThan(waitsBefore.sum);
  });

  it('records an older event superseded, without running or retrying it, for a handler with skipIfSuperseded; other handlers run it told it is out of order', async () => {
    const seen: { id: string; outOfOrder: boolean; fence: number | undefined }[] = [];
    const note = async (event: { id: string }, ctx: HandlerContext) => {
      seen.push({ id: event.id, outOfOrder: ctx.outOfOrder, fence: ctx.objectLease?.fence });
      return {};
    };
    const handlers = new HandlerRegistry([
      defineHandler('customer.subscription.updated', note, { skipIfSuperseded: true }),
      defineHandler('invoice.updated', note) as EventHandler,
    ]);
    const index = indexOf();
    const recorder = new EventStatusRecorder(index, silent);
    recordEventStatuses(startWorker(handlers, 2), recorder);
    const newerSub = eventOf('customer.subscription.updated', 'sub_stale', 2000);
    const olderSub = eventOf('customer.subscription.updated', 'sub_stale', 1000);
    const newerInv = eventOf('invoice.updated', 'in_stale', 2000);
    const olderInv = eventOf('invoice.updated', 'in_stale', 1000);
    const accept = async (events: ReturnType<typeof eventOf>[]) => {
      await enqueue(events, 5);
      return finished(events.map((e) => e.id));
    };

    await accept([newerSub, newerInv]);
    // Stripe delivers the older ones late: the newer ones were processed already.
    const [sub, inv] = await accept([olderSub, olderInv]);

    expect(sub!.returnvalue).toEqual({ status: 'superseded' });
    expect(sub!.attemptsMade).toBe(1);
    expect(seen.find((s) => s.id === olderSub.id)).toBeUndefined();
    expect(inv!.returnvalue).toMatchObject({ status: 'succeeded' });
    expect(seen.find((s) => s.id === olderInv.id)).toMatchObject({ outOfOrder: true });
    expect(seen.find((s) => s.id === newerInv.id)).toMatchObject({ outOfOrder: false });
    // Each grant of an object's lease has a higher fence than the one before.
    expect(seen.find((s) => s.id === olderInv.id)!.fence).toBeGreaterThan(seen.find((s) => s.id === newerInv.id)!.fence!);
    const record = await until_<EventRecord>('the superseded record', async () => {
      const r = await index.get(olderSub.id);
      return r?.status === 'superseded' ? r : undefined;
    });
    expect(record).toMatchObject({ status: 'superseded', attempts: 1, lastError: null });
    expect(await readOrderingStats(redis, prefix)).toMatchObject({ superseded: 1, outOfOrder: 2 });
  });

  it('a job failing transiently keeps its place: the newer event of its object waits until the retry succeeded', async () => {
    const order: string[] = [];
    const handlers = new HandlerRegistry([
      defineHandler('customer.subscription.updated', async (event, ctx) => {
        if (event.created === 1000 && ctx.attempt === 1) throw new Error('CRM busy');
        order.push(`${event.created}`);
        return {};
      }),
    ]);
    startWorker(handlers, 4);
    const first = eventOf('customer.subscription.updated', 'sub_retry', 1000);
    const second = eventOf('customer.subscription.updated', 'sub_retry', 1001);
    await enqueue([first, second]);
    const [a, b] = await finished([first.id, second.id]);
    expect(order).toEqual(['1000', '1001']);
    expect(a!.attemptsMade).toBe(2);
    expect(b!.attemptsMade).toBe(1);
  });
  it('an event alone on its object gets its lease when queued: its job runs with that fence, without an acquire', async () => {
    const seen: { id: string; fence: number | undefined; outOfOrder: boolean }[] = [];
    const handlers = new HandlerRegistry([
      defineHandler('customer.subscription.updated', async (event, ctx) => {
        seen.push({ id: event.id, fence: ctx.objectLease?.fence, outOfOrder: ctx.outOfOrder });
        return {};
      }),
    ]);
    const alone = eventOf('customer.subscription.updated', 'sub_alone', 1000);
    await enqueue([alone]);
    const queued = await queue.getJob(alone.id);
    expect(queued!.data).toMatchObject({ payloadOf: alone.id, order: { objectId: 'sub_alone', created: 1000 }, grant: { fence: 1, outOfOrder: false } });
    startWorker(handlers, 2);
    const [job] = await finished([alone.id]);
    expect(job!.returnvalue).toMatchObject({ status: 'succeeded' });
    // An acquire would have granted a higher fence.
    expect(seen).toEqual([{ id: alone.id, fence: 1, outOfOrder: false }]);
    expect(await readOrderingStats(redis, prefix)).toMatchObject({ leaseWaits: 0, outOfOrder: 0 });
    await until_('the release', async () => ((await redis.exists(`${orderingBase(prefix)}:wait:sub_alone`)) === 0 ? true : undefined));
  });

  it('an older event queued before the granted job started takes the grant back: the older one runs first, the newer after it, in order', async () => {
    const runs: { id: string; outOfOrder: boolean }[] = [];
    const handlers = new HandlerRegistry([
      defineHandler('customer.subscription.updated', async (event, ctx) => {
        runs.push({ id: event.id, outOfOrder: ctx.outOfOrder });
        return {};
      }),
    ]);
    const newer = eventOf('customer.subscription.updated', 'sub_back', 2000);
    const older = eventOf('customer.subscription.updated', 'sub_back', 1000);
    await enqueue([newer]);
    expect((await queue.getJob(newer.id))!.data).toHaveProperty('grant');
    await enqueue([older]);
    expect((await queue.getJob(newer.id))!.data).not.toHaveProperty('grant');
    expect((await queue.getJob(older.id))!.data).not.toHaveProperty('grant');
    expect(await redis.hget(`${orderingBase(prefix)}:obj:sub_back`, 'holder')).toBeNull();
    startWorker(handlers, 4);
    await finished([newer.id, older.id]);
    expect(runs).toEqual([{ id: older.id, outOfOrder: false }, { id: newer.id, outOfOrder: false }]);
  });
});

describe('object leases', () => {
  const db = useRedis();

  const redisNow = async () => {
    const [s, us] = await db.redis.time();
    return Number(s) * 1000 + Math.floor(Number(us) / 1000);
  };

  it('a holder that stops renewing (its worker died) loses the lease once leaseMs has passed; its late writes are fenced off', async () => {
    const prefix = `test-${randomUUID()}`;
    const leaseMs = 1000;
    const order = new ObjectOrder(db.redis, { base: orderingBase(prefix), jobKeyPrefix: `${prefix}:${QUEUE}:`, leaseMs, ttlSeconds: 60 });
    const queue = new Queue(QUEUE, { connection: db.redis, prefix });
    try {
      // Two real jobs of one object; the dead one's job failed (stalled too often), so it is no longer first in line.
      await queue.add('x', {}, { jobId: 'job-dead' });
      await queue.add('x', {}, { jobId: 'job-next' });
      const dead = { objectId: 'sub_dead', created: 1, eventId: 'evt_dead', jobId: 'job-dead' };
      const next = { objectId: 'sub_dead', created: 2, eventId: 'evt_next', jobId: 'job-next' };
      await order.register([dead, next]);
      const before = await redisNow();
      const grant = await order.acquire(dead);
      const after = await redisNow();
      if (!grant.granted) throw new Error('the first event should get the lease');
      // What the script stored: the lease runs out leaseMs after it was granted (Redis's clock), unless renewed.
      // The grant happened between `before` and `after`, so `until` lies within leaseMs of that span (a loaded
      // machine can put milliseconds between the two reads, so no tighter bound holds).
      const until = Number(await db.redis.hget(`${orderingBase(prefix)}:obj:sub_dead`, 'until'));
      expect(until).toBeGreaterThanOrEqual(before + leaseMs);
      expect(until).toBeLessThanOrEqual(after + leaseMs);
      await db.redis.hset(`${prefix}:${QUEUE}:job-dead`, 'finishedOn', String(Date.now()));
      let refusedAfterExpiry = 0;

      // Asked while the lease still runs (Redis's clock), the next event is refused: 'held'. A loaded machine can
      // let the lease run out before the question is answered; then the loop below checks what happens after.
      const early = await order.acquire(next);
      const earlyAnswered = await redisNow();
      if (earlyAnswered < until) expect(early).toMatchObject({ granted: false, reason: 'held' });
      const taken = early.granted ? { g: early, answered: earlyAnswered } : await until_('the lease to pass to the next event', async () => {
        const asked = await redisNow();
        const g = await order.acquire(next);
        const answered = await redisNow();
        if (g.granted) return { g, answered };
        if (asked > until) refusedAfterExpiry += 1;
        return undefined;
      }, 10_000);

      // Held until it ran out, and never refused after: a dead holder keeps its object at most leaseMs.
      // The grant happened before `answered`; it cannot have happened before the lease ran out.
      expect(taken.answered).toBeGreaterThanOrEqual(until);
      expect(refusedAfterExpiry).toBe(0);
      expect(taken.g).toMatchObject({ granted: true, fence: grant.fence + 1 });
      // The dead holder wakes up: it cannot renew, and its release changes nothing.
      expect(await order.renew(dead, grant.fence)).toBe(false);
      expect(await order.release(dead, grant.fence, 'done')).toEqual({ held: false, next: '' });
      expect(await order.renew(next, grant.fence + 1)).toBe(true);
    } finally {
      await queue.obliterate({ force: true });
      await queue.close();
    }
  });

  it('a stalled job run again (same job) gets its own lease back at once, with a higher fence', async () => {
    const prefix = `test-${randomUUID()}`;
    const order = new ObjectOrder(db.redis, { base: orderingBase(prefix), jobKeyPrefix: `${prefix}:${QUEUE}:`, leaseMs: 60_000, ttlSeconds: 60 });
    const event = { objectId: 'sub_stalled', created: 1, eventId: 'evt_s', jobId: 'job-s' };
    const first = await order.acquire(event);
    const again = await order.acquire(event);
    expect(first).toMatchObject({ granted: true });
    expect(again).toMatchObject({ granted: true, fence: (first as { fence: number }).fence + 1 });
  });

  it('drops a waiting entry whose job is gone; its queue-time lease (the job never came) holds the object at most leaseMs', async () => {
    const prefix = `test-${randomUUID()}`;
    const leaseMs = 300;
    const order = new ObjectOrder(db.redis, { base: orderingBase(prefix), jobKeyPrefix: `${prefix}:${QUEUE}:`, leaseMs, ttlSeconds: 60 });
    const [grant] = await order.register([{ objectId: 'sub_gone', created: 1, eventId: 'evt_gone', jobId: 'job-never-made' }]);
    expect(grant).toMatchObject({ fence: 1, outOfOrder: false });
    const until = Number(await db.redis.hget(`${orderingBase(prefix)}:obj:sub_gone`, 'until'));
    const later = { objectId: 'sub_gone', created: 5, eventId: 'evt_later', jobId: 'job-later' };
    const taken = await until_('the lease to pass', async () => {
      const g = await order.acquire(later);
      return g.granted ? { g, answered: await redisNow() } : undefined;
    }, 10_000);
    expect(taken.answered).toBeGreaterThanOrEqual(until);
    expect(taken.g).toMatchObject({ granted: true, fence: 2 });
  });

  it('a queue-time lease holds while its job waits, then while the job\'s lock does: a dead worker loses it when its lock expires', async () => {
    const prefix = `test-${randomUUID()}`;
    const order = new ObjectOrder(db.redis, { base: orderingBase(prefix), jobKeyPrefix: `${prefix}:${QUEUE}:`, leaseMs: 100, ttlSeconds: 60 });
    const queue = new Queue(QUEUE, { connection: db.redis, prefix });
    try {
      const granted = { objectId: 'sub_q', created: 1, eventId: 'evt_q', jobId: 'job-q' };
      const [grant] = await order.register([granted]);
      expect(grant).toMatchObject({ fence: 1 });
      await queue.add('x', {}, { jobId: 'job-q' });
      // The holder's entry no longer first in line (as after a stall dropped it): only the lease stands in the way.
      await db.redis.zrem(`${orderingBase(prefix)}:wait:sub_q`, 'evt_q job-q');
      const other = { objectId: 'sub_q', created: 2, eventId: 'evt_o', jobId: 'job-o' };
      // Waiting in the queue, long past `until`: still held.
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(await order.acquire(other)).toMatchObject({ granted: false, reason: 'held' });
      // Started by a worker that holds the job's lock, then dies: held until the lock expires.
      await db.redis.hset(`${prefix}:${QUEUE}:job-q`, 'processedOn', String(Date.now()));
      await db.redis.set(`${prefix}:${QUEUE}:job-q:lock`, 'token', 'PX', 300);
      expect(await order.acquire(other)).toMatchObject({ granted: false, reason: 'held' });
      const taken = await until_('the lease to pass once the lock expired', async () => {
        const g = await order.acquire(other);
        return g.granted ? g : undefined;
      }, 10_000);
      expect(await db.redis.exists(`${prefix}:${QUEUE}:job-q:lock`)).toBe(0);
      expect(taken).toMatchObject({ granted: true, fence: 2 });
    } finally {
      await queue.obliterate({ force: true });
      await queue.close();
    }
  });
});
