import { randomUUID } from 'node:crypto';
import { Queue, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import pino from 'pino';
import { buildStripeEvent } from '../../src/dev/stripe-event-builder';
import { EventIndex } from '../../src/events/event-index';
import { summariseEvent } from '../../src/events/event-record';
import { OpenRecords } from '../../src/events/open-records';
import { IndexSweep } from '../../src/worker/index-sweep';
import { RunLock } from '../../src/worker/run-lock';
import { startRedis, type TestRedis } from '../support/redis';

/** Collects what a logger was given, by level, so a test can see what an operator would. */
function recordingLogger() {
  const lines: { level: number; obj: Record<string, unknown>; msg: string }[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => {
    const parsed = JSON.parse(line) as { level: number; msg: string } & Record<string, unknown>;
    lines.push({ level: parsed.level, obj: parsed, msg: parsed.msg });
  } });
  return { logger, lines };
}

describe('the index sweep against a real Redis and BullMQ queue', () => {
  let server: TestRedis;
  let redis: Redis;
  let prefix: string;
  let index: EventIndex;
  let records: OpenRecords;
  let queue: Queue;
  let log: ReturnType<typeof recordingLogger>;

  const config = () => ({ QUEUE_PREFIX: prefix, EVENT_INDEX_RETENTION_DAYS: 30, EVENT_INDEX_MAX_EVENTS: 1000 });
  const sweepOf = (connection: Redis, afterMs = 0) =>
    new IndexSweep({ records, queue, lock: new RunLock(connection, records.lockKey, 30_000), logger: log.logger }, { intervalMs: 60_000, afterMs });
  const openIds = async () => redis.zrange(`${prefix}:{event-index}:idx:open`, 0, -1);

  /** An accepted event as the mover leaves it: a job (jobId = event id) and its record, queued. */
  const accept = async (type = 'customer.created', jobOptions: { delay?: number } = {}, receivedAt = Date.now()) => {
    const event = buildStripeEvent(type);
    await queue.add(type, event, { jobId: event.id, ...jobOptions });
    await index.record(summariseEvent(event), JSON.stringify(event), receivedAt);
    return event;
  };

  /** Runs the queue's waiting jobs to completion (or failure) with `process`, then stops: no index writes. */
  const drain = async (process: (job: Job) => Promise<unknown>, count: number) => {
    const connection = redis.duplicate({ maxRetriesPerRequest: null });
    // autorun off: the listeners are attached before the first job can finish.
    const worker = new Worker('stripe-events', process, { connection, prefix, autorun: false });
    let done = 0;
    const finished = new Promise<void>((resolve) => {
      const count1 = () => {
        done += 1;
        if (done === count) resolve();
      };
      worker.on('completed', count1);
      worker.on('failed', count1);
    });
    void worker.run();
    await finished;
    await worker.close();
    connection.disconnect();
  };

  beforeAll(async () => {
    server = await startRedis({ appendOnly: false });
    redis = new Redis(server.url, { maxRetriesPerRequest: null });
  });
  beforeEach(() => {
    prefix = `test-${randomUUID()}`;
    index = new EventIndex(redis, config());
    records = new OpenRecords(redis, config());
    queue = new Queue('stripe-events', { connection: redis, prefix });
    log = recordingLogger();
  });
  afterEach(async () => {
    await queue.obliterate({ force: true });
    await queue.close();
  });
  afterAll(async () => {
    redis.disconnect();
    await server.destroy();
  });

  it('the open set holds exactly the records not final: added when recorded, rescored while processing, dropped when final', async () => {
    const event = await accept();
    expect(await openIds()).toEqual([event.id]);
    await index.setStatus(event.id, 'processing', { attempts: 1 });
    expect(await openIds()).toEqual([event.id]);
    await index.setStatus(event.id, 'succeeded', { attempts: 1 });
    expect(await openIds()).toEqual([]);
    // A replay opens it again.
    await index.setStatus(event.id, 'queued', { jobId: `${event.id}-replay-1` });
    expect(await openIds()).toEqual([event.id]);
  });

  it('when a job completed but its status write was lost, the sweep writes succeeded or ignored from its return value', async () => {
    const handled = await accept('customer.created');
    const unhandled = await accept('plan.created');
    await drain(async (job) => ({ status: job.name === 'plan.created' ? 'ignored' : 'succeeded' }), 2);

    const report = await sweepOf(redis).runOnce();

    expect(report).toMatchObject({ checked: 2, repaired: 2, lost: 0, alive: 0 });
    expect(await index.get(handled.id)).toMatchObject({ status: 'succeeded', attempts: 1, lastError: null });
    expect(await index.get(unhandled.id)).toMatchObject({ status: 'ignored', attempts: 1 });
    expect(await openIds()).toEqual([]);
    expect(log.lines.find((l) => l.msg.startsWith('index sweep settled'))?.level).toBe(40);
  });

  it('when a job completed superseded but its status write was lost, the sweep writes superseded: final, not failed', async () => {
    const stale = await accept('customer.created');
    await drain(async () => ({ status: 'superseded' }), 1);

    const report = await sweepOf(redis).runOnce();

    expect(report).toMatchObject({ checked: 1, repaired: 1, lost: 0 });
    expect(await index.get(stale.id)).toMatchObject({ status: 'superseded', attempts: 1, lastError: null });
    expect(await openIds()).toEqual([]);
    expect((await index.list({ status: 'superseded', limit: 10 })).events.map((e) => e.id)).toEqual([stale.id]);
  });

  it('when a job failed for good but its status write was lost, the sweep writes failed with the reason, listed as failed', async () => {
    const event = await accept('customer.updated');
    await drain(async () => {
      throw new Error('CRM timed out');
    }, 1);

    await sweepOf(redis).runOnce();

    expect(await index.get(event.id)).toMatchObject({ status: 'failed', attempts: 1, lastError: 'CRM timed out' });
    expect((await index.list({ status: 'failed', limit: 10 })).events.map((e) => e.id)).toEqual([event.id]);
  });

  it('when the job is still waiting, the record is left as it is and not checked again before another afterMs', async () => {
    const event = await accept('customer.created', { delay: 60_000 });

    expect(await sweepOf(redis).runOnce()).toMatchObject({ checked: 1, alive: 1, repaired: 0, lost: 0 });
    expect(await index.get(event.id)).toMatchObject({ status: 'queued' });
    // Rescored to now: a sweep that waits a minute before checking finds nothing due.
    expect(await sweepOf(redis, 60_000).runOnce()).toMatchObject({ checked: 0 });
    expect(await openIds()).toEqual([event.id]);
  });

  it('a run checks at most batch × maxBatches records; waiting ones go to the back, so the next run reads the rest', async () => {
    for (let i = 0; i < 5; i += 1) await accept('customer.created', { delay: 60_000 }, Date.now() - 60_000);
    const sweep = new IndexSweep(
      { records, queue, lock: new RunLock(redis, records.lockKey, 30_000), logger: log.logger },
      { intervalMs: 60_000, afterMs: 30_000, batch: 2, maxBatches: 2 },
    );

    expect(await sweep.runOnce()).toMatchObject({ checked: 4, alive: 4 });
    expect(await sweep.runOnce()).toMatchObject({ checked: 1, alive: 1 });
    expect(await sweep.runOnce()).toMatchObject({ checked: 0 });
  });

  it('when the record is queued and its job is gone without finishing, the sweep marks it lost: logged at error, counted, listed as lost', async () => {
    const event = await accept();
    await queue.remove(event.id);

    expect(await sweepOf(redis).runOnce()).toMatchObject({ checked: 1, lost: 1, repaired: 0 });

    expect(await index.get(event.id)).toMatchObject({ status: 'lost', lastError: `its job ${event.id} is gone and never finished` });
    const error = log.lines.find((l) => l.level === 50);
    expect(error).toMatchObject({ msg: expect.stringContaining('event lost'), obj: expect.objectContaining({ eventId: event.id }) });
    expect(await records.summary()).toMatchObject({ lost: 1, open: 0, oldestAgeMs: null });
    expect((await index.list({ status: 'lost', limit: 10 })).events.map((e) => e.id)).toEqual([event.id]);
    // Replayed later, it leaves the lost listing.
    await index.setStatus(event.id, 'succeeded', { attempts: 1 });
    expect((await index.list({ status: 'lost', limit: 10 })).events).toEqual([]);
  });

  it('records written before the open set existed are found by walking the index once, and repaired', async () => {
    const event = await accept('customer.created');
    const finished = await accept('plan.created');
    await index.setStatus(finished.id, 'ignored', { attempts: 1 });
    await drain(async () => ({ status: 'succeeded' }), 2);
    // As an index written by an older release has it: no open set at all.
    await redis.del(`${prefix}:{event-index}:idx:open`);

    expect(await sweepOf(redis).runOnce()).toMatchObject({ checked: 1, repaired: 1 });

    expect(await index.get(event.id)).toMatchObject({ status: 'succeeded', attempts: 1 });
    expect(await index.get(finished.id)).toMatchObject({ status: 'ignored' });
    expect(await redis.get(`${prefix}:{event-index}:open-backfill`)).toBe('done');
    expect(await records.backfill(2000)).toBe(0);
  });

  it('a replay is judged by its own job: the replay job completed, the record follows it', async () => {
    const event = await accept();
    await drain(async () => ({ status: 'succeeded' }), 1);
    await index.setStatus(event.id, 'succeeded', { attempts: 1 });
    // The replay route: status queued under the new job id, then the job; a worker then runs it and dies.
    const replayJobId = `${event.id}-replay-1`;
    await index.setStatus(event.id, 'queued', { jobId: replayJobId, attempts: 0, lastError: null });
    await queue.add(event.type, event, { jobId: replayJobId });
    await drain(async () => ({ status: 'ignored' }), 1);

    await sweepOf(redis).runOnce();

    expect(await index.get(event.id)).toMatchObject({ status: 'ignored', jobId: replayJobId, attempts: 1 });
  });

  it('a record in the open set whose status is final already, or which is gone, is dropped from the set untouched', async () => {
    const final = await accept();
    const trimmed = await accept();
    await queue.remove(final.id);
    await queue.remove(trimmed.id);
    // A writer that sets a final status without the open set's bookkeeping, and a record retention deleted.
    await redis.hset(`${prefix}:{event-index}:rec:${final.id}`, 'status', 'succeeded');
    await redis.del(`${prefix}:{event-index}:rec:${trimmed.id}`);

    expect(await sweepOf(redis).runOnce()).toMatchObject({ checked: 2, gone: 2, lost: 0 });

    expect(await index.get(final.id)).toMatchObject({ status: 'succeeded' });
    expect(await redis.exists(`${prefix}:{event-index}:rec:${trimmed.id}`)).toBe(0);
    expect(await openIds()).toEqual([]);
  });

  it('a record whose status moves while the sweep looks at it keeps the newer status', async () => {
    const event = await accept();
    await queue.remove(event.id);
    const [due] = await records.due(0, 10);
    // The worker's (late) write lands between the sweep's read and its write.
    await index.setStatus(event.id, 'succeeded', { attempts: 1 });
    const applied = await records.settle([{ record: due!, action: 'lost', lastError: 'gone' }]);
    expect(applied).toEqual([]);
    expect(await index.get(event.id)).toMatchObject({ status: 'succeeded' });
    expect(await records.summary()).toMatchObject({ lost: 0 });
  });

  it('when two sweeps start at once, one runs and the other stands aside; the lock is released only by its owner', async () => {
    const event = await accept();
    await queue.remove(event.id);
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    const blockingRecords: IndexSweepRecords = {
      due: async (afterMs, limit) => {
        await held;
        return records.due(afterMs, limit);
      },
      settle: (s) => records.settle(s),
      backfill: (limit) => records.backfill(limit),
    };
    const other = redis.duplicate();
    try {
      const first = new IndexSweep({ records: blockingRecords, queue, lock: new RunLock(redis, records.lockKey, 30_000), logger: log.logger }, { intervalMs: 60_000, afterMs: 0 });
      const second = new IndexSweep({ records, queue, lock: new RunLock(other, records.lockKey, 30_000), logger: log.logger }, { intervalMs: 60_000, afterMs: 0 });
      const firstRun = first.runOnce();
      await waitFor(async () => (await redis.exists(records.lockKey)) === 1);
      expect(await second.runOnce()).toBeUndefined();
      expect(await index.get(event.id)).toMatchObject({ status: 'queued' });
      release();
      expect(await firstRun).toMatchObject({ checked: 1, lost: 1 });
      expect(await records.summary()).toMatchObject({ lost: 1 });
      expect(await redis.exists(records.lockKey)).toBe(0);

      // A run that outlived its lease does not free the lock another process took meanwhile.
      const lock = new RunLock(redis, records.lockKey, 30_000);
      await lock.withLock(async () => {
        await redis.set(records.lockKey, 'someone-else');
      });
      expect(await redis.get(records.lockKey)).toBe('someone-else');
    } finally {
      other.disconnect();
    }
  });
});

type IndexSweepRecords = Pick<OpenRecords, 'backfill' | 'due' | 'settle'>;

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
