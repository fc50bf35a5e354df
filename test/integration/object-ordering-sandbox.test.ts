import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { objectOrderFor } from '../../src/worker/ordering/ordering-runtime';
import { eventIndexFor } from '../../src/events/event-index';
import { summariseEvent } from '../../src/events/event-record';
import { orderedEventOf, orderedRefs, orderingBase } from '../../src/worker/ordering/object-order';
import { readOrderingStats } from '../../src/worker/ordering/ordering-stats';
import { startWorker, type RunningProcess } from '../support/processes';
import { startRedis, type TestRedis } from '../support/redis';

const QUEUE = 'stripe-events';

function customerCreated(created: number) {
  const id = `evt_${randomUUID().replace(/-/g, '')}`;
  return { id, object: 'event', type: 'customer.created', created, livemode: false, data: { object: { id: 'cus_ordered', object: 'customer' } } };
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/**
 * The worker takes the lease in its main thread and hands the job to the sandbox with its place. These run the
 * built worker (dist/) to show that stepping aside works with a sandbox too, without an attempt, and that the
 * sandboxed handler is told its place.
 */
describe.each(['thread', 'process'] as const)('per-object ordering in a real worker process, sandbox %s', (sandbox) => {
  let server: TestRedis;
  let redis: Redis;
  let worker: RunningProcess | undefined;

  beforeAll(async () => {
    server = await startRedis({ appendOnly: false });
    redis = new Redis(server.url, { maxRetriesPerRequest: null });
  });
  afterAll(async () => {
    await worker?.kill();
    redis.disconnect();
    await server.destroy();
  });

  it('a job whose object has an older event waiting steps aside (delayed, no attempt spent) until that event is gone, then runs', async () => {
    const prefix = `test-${randomUUID()}`;
    // The older event was alone when registered: its queue-time lease outlives its removed job by at most 1 s.
    const config = { QUEUE_PREFIX: prefix, ORDERING_LEASE_MS: 1000, ORDERING_STEP_ASIDE_MS: 50, ORDERING_MEMORY_HOURS: 72 };
    const queue = new Queue(QUEUE, { connection: redis, prefix });
    try {
      worker = await startWorker({ REDIS_URL: server.url, QUEUE_PREFIX: prefix, WORKER_SANDBOX: sandbox, ORDERING_STEP_ASIDE_MS: '50' });
      const older = customerCreated(1000);
      const newer = customerCreated(2000);
      await objectOrderFor(redis, config).register([orderedEventOf(older, older.id)!, orderedEventOf(newer, newer.id)!]);
      // The older event's job exists but will not run for an hour: the newer one must wait for it.
      await queue.add(older.type, older, { jobId: older.id, delay: 3_600_000 });
      await queue.add(newer.type, newer, { jobId: newer.id, attempts: 2 });

      await until('two step-asides', async () => ((await readOrderingStats(redis, prefix)).leaseWaits >= 2 ? true : undefined));
      const waiting = await queue.getJob(newer.id);
      expect(waiting!.attemptsMade).toBe(0);
      expect(await waiting!.getState()).not.toBe('failed');

      await (await queue.getJob(older.id))!.remove();
      const done = await until('the newer job to complete', async () => {
        // State first, then the job: a job read before it finished would keep its old (null) returnvalue.
        return (await queue.getJobState(newer.id)) === 'completed' ? queue.getJob(newer.id) : undefined;
      });
      expect(done!.attemptsMade).toBe(1);
      expect(done!.returnvalue).toMatchObject({ status: 'succeeded' });
    } finally {
      await worker?.kill();
      worker = undefined;
      await queue.obliterate({ force: true });
      await queue.close();
    }
  });

  it('events queued alone on their object, as the mover queues them, run in the sandbox with the lease granted at queue time and their place', async () => {
    const prefix = `test-${randomUUID()}`;
    const config = { QUEUE_PREFIX: prefix, ORDERING_LEASE_MS: 30_000, ORDERING_STEP_ASIDE_MS: 50, ORDERING_MEMORY_HOURS: 72 };
    const queue = new Queue(QUEUE, { connection: redis, prefix });
    const index = eventIndexFor(redis, { QUEUE_PREFIX: prefix, EVENT_INDEX_RETENTION_DAYS: 30, EVENT_INDEX_MAX_EVENTS: 1000 });
    /** As the intake mover does it: register (the grant), record the payload, add a job that carries a reference. */
    const accept = async (event: ReturnType<typeof customerCreated>) => {
      const [ref] = await orderedRefs(objectOrderFor(redis, config), [{ id: event.id, place: orderedEventOf(event, event.id) }]);
      await index.record(summariseEvent(event as never), JSON.stringify(event));
      await queue.add(event.type, ref, { jobId: event.id });
      return until('the job to complete', async () => ((await queue.getJobState(event.id)) === 'completed' ? queue.getJob(event.id) : undefined));
    };
    try {
      worker = await startWorker({ REDIS_URL: server.url, QUEUE_PREFIX: prefix, WORKER_SANDBOX: sandbox });
      const newer = customerCreated(2000);
      const older = customerCreated(1000);
      const first = await accept(newer);
      expect(first!.data).toMatchObject({ grant: { fence: 1, outOfOrder: false } });
      expect(first!.returnvalue).toMatchObject({ status: 'succeeded', result: { customer: 'cus_ordered' } });
      expect(first!.returnvalue).not.toHaveProperty('outOfOrder');
      // Stripe delivers the older one late: granted when queued too, and the sandboxed handler is told it is late.
      const late = await accept(older);
      expect(late!.data).toMatchObject({ grant: { fence: 2, outOfOrder: true } });
      expect(late!.returnvalue).toMatchObject({ status: 'succeeded', outOfOrder: true });
      // No acquire ran (it would have raised the fence), no job stepped aside, and each release landed.
      const objKey = `${orderingBase(prefix)}:obj:cus_ordered`;
      await until('the release', async () => ((await redis.hget(objKey, 'holder')) === null ? true : undefined));
      expect(await redis.hget(objKey, 'fence')).toBe('2');
      expect(await redis.hget(objKey, 'lastId')).toBe(newer.id);
      expect(await readOrderingStats(redis, prefix)).toMatchObject({ leaseWaits: 0, outOfOrder: 1 });
    } finally {
      await worker?.kill();
      worker = undefined;
      await queue.obliterate({ force: true });
      await queue.close();
    }
  });
});
