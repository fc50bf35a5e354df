import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import pino from 'pino';
import { buildStripeEvent } from '../../src/dev/stripe-event-builder';
import { EventIndex } from '../../src/events/event-index';
import { DEAD_LETTER_MAX, IntakeLog } from '../../src/events/intake-log';
import { IntakeMover } from '../../src/worker/intake-mover';
import { AccountFairness } from '../../src/worker/ordering/account-fairness';
import { ObjectOrder, orderingBase } from '../../src/worker/ordering/object-order';
import { startRedis, type TestRedis } from '../support/redis';

/** A logger whose lines the test can read. */
function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

describe('IntakeMover: accepted webhooks from the intake log into jobs and the event index', () => {
  let server: TestRedis;
  let redis: Redis;
  let reader: Redis;
  let prefix: string;
  let log: IntakeLog;
  let index: EventIndex;
  let queue: Queue;
  let movers: IntakeMover[];

  // Compact records (EVENT_RECORDS_COMPACT): the payload is a field of its record.
  const config = () => ({ QUEUE_PREFIX: prefix, EVENT_INDEX_RETENTION_DAYS: 30, EVENT_INDEX_MAX_EVENTS: 1000, EVENT_RECORDS_COMPACT: true });
  const mover = (consumer: string, logger = pino({ level: 'silent' })) => {
    const made = new IntakeMover({ reader: new IntakeLog(reader, config()), log, index, queue, logger, consumer }, { blockMs: 100, retryMs: 50 });
    movers.push(made);
    return made;
  };
  const accept = async (type = 'customer.created') => {
    const event = buildStripeEvent(type);
    const body = JSON.stringify(event, null, 2);
    expect(await log.append(event.id, Buffer.from(body), 1_764_000_000_000)).toBe(true);
    return { event, body };
  };

  beforeAll(async () => {
    server = await startRedis({ appendOnly: false });
    redis = new Redis(server.url, { maxRetriesPerRequest: null });
    reader = new Redis(server.url, { maxRetriesPerRequest: null });
  });
  beforeEach(() => {
    prefix = `test-${randomUUID()}`;
    log = new IntakeLog(redis, config());
    index = new EventIndex(redis, config());
    queue = new Queue('stripe-events', { connection: redis, prefix });
    movers = [];
  });
  afterEach(async () => {
    await Promise.all(movers.map((m) => m.stop()));
    await queue.close();
  });
  afterAll(async () => {
    redis.disconnect();
    reader.disconnect();
    await server.destroy();
  });

  it('with ordering and fairness: puts handled events in their objects\' waiting sets and gives each job its account\'s priority', async () => {
    const order = new ObjectOrder(redis, { base: orderingBase(prefix), jobKeyPrefix: `${prefix}:stripe-events:`, leaseMs: 30_000, ttlSeconds: 60 });
    const fairness = new AccountFairness(redis, { base: orderingBase(prefix), step: 2, windowSeconds: 60 });
    const made = new IntakeMover(
      { reader: new IntakeLog(reader, config()), log, index, queue, logger: pino({ level: 'silent' }), consumer: 'm-ordered', ordering: { order, handles: (type) => type === 'customer.created' }, fairness },
      { blockMs: 100, retryMs: 50 },
    );
    movers.push(made);
    const handled = [await accept('customer.created'), await accept('customer.created'), await accept('customer.created')];
    const unhandled = await accept('plan.created');
    expect(await made.moveAvailable()).toBe(4);

    for (const { event } of handled) {
      const objectId = (event.data.object as { id: string }).id;
      expect(await redis.zscore(`${orderingBase(prefix)}:wait:${objectId}`, `${event.id} ${event.id}`)).toBe(String(event.created));
    }
    expect(await redis.exists(`${orderingBase(prefix)}:wait:${(unhandled.event.data.object as { id: string }).id}`)).toBe(0);
    // All four from one account (or all without one), step 2: priorities 1, 1, 2, 2 in the order they were moved.
    const jobs = await Promise.all([...handled, unhandled].map(({ event }) => queue.getJob(event.id)));
    expect(jobs.map((j) => j?.opts.priority)).toEqual([1, 1, 2, 2]);
  });

  it('turns each entry into a job (jobId = event id) and a record with the time the web accepted it, then empties the log', async () => {
    const { event, body } = await accept('payment_intent.succeeded');
    expect(await mover('m1').moveAvailable()).toBe(1);
    const job = await queue.getJob(event.id);
    expect(job?.name).toBe('payment_intent.succeeded');
    // The job refers to the stored payload; BullMQ's job hash holds no copy of it.
    expect(job?.data).toEqual({ payloadOf: event.id });
    const jobHash = await redis.hgetall(`${prefix}:stripe-events:${event.id}`);
    expect(jobHash.data).toBe(JSON.stringify({ payloadOf: event.id }));
    expect(Object.values(jobHash).join('')).not.toContain('"object": "event"');
    expect(await index.get(event.id)).toMatchObject({ id: event.id, type: 'payment_intent.succeeded', status: 'queued', receivedAt: new Date(1_764_000_000_000).toISOString(), payloadExpired: false });
    expect(await index.payload(event.id)).toBe(body);
    // Stored once, compressed (format byte 1, deflate-raw with the preset dictionary), in its record (no key of its own).
    const stored = await redis.hgetBuffer(`${prefix}:{event-index}:rec:${event.id}`, 'payload');
    expect(await redis.exists(`${prefix}:{event-index}:payload:${event.id}`)).toBe(0);
    expect(stored?.[0]).toBe(1);
    expect(stored!.length).toBeLessThan(Buffer.byteLength(body) / 3);
    expect(await log.backlog()).toEqual({ waiting: 0, pending: 0, deadLettered: 0 });
    // The dedup window answers for the id: a redelivery is still a duplicate.
    expect(await log.append(event.id, Buffer.from(body))).toBe(false);
  });

  it('takes over what a mover read and never finished (it died), and queues each event once', async () => {
    const first = await accept();
    const second = await accept();
    // The dead mover read both and had added one job when it died.
    await log.ensureGroup();
    expect(await log.read('dead', 10, 0)).toHaveLength(2);
    await queue.add(first.event.type, first.event, { jobId: first.event.id });
    expect(await log.backlog()).toEqual({ waiting: 2, pending: 2, deadLettered: 0 });
    expect(await mover('alive').moveAvailable(0)).toBe(2);
    expect(await queue.count()).toBe(2);
    expect((await queue.getJob(second.event.id))?.id).toBe(second.event.id);
    expect(await index.get(first.event.id)).toBeDefined();
    expect(await log.backlog()).toEqual({ waiting: 0, pending: 0, deadLettered: 0 });
  });

  it('running, takes over all of a dead mover\'s entries in one check, though each claim is small (it fits the batch\'s bytes at BODY_LIMIT per entry)', async () => {
    for (let i = 0; i < 20; i += 1) await accept();
    await log.ensureGroup();
    expect(await log.read('dead', 20, 0)).toHaveLength(20);
    // Idle long enough to be taken over (the mover below claims entries idle 50 ms, once a minute).
    const deadline = Date.now() + 15_000;
    const idle = async () => ((await redis.xpending(log.stream, 'movers', '-', '+', 1)) as [string, string, number, number][])[0]?.[2] ?? 0;
    while ((await idle()) < 100 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 25));
    const made = new IntakeMover(
      { reader: new IntakeLog(reader, config()), log, index, queue, logger: pino({ level: 'silent' }), consumer: 'heir' },
      { batchMaxBytes: 2 * 1024 * 1024, entryMaxBytes: 1024 * 1024, claimIdleMs: 50, claimEveryMs: 60_000, blockMs: 100 },
    );
    movers.push(made);
    made.start();
    while ((await queue.count()) < 20 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 25));
    expect(await queue.count()).toBe(20);
    expect(await log.backlog()).toEqual({ waiting: 0, pending: 0, deadLettered: 0 });
  });

  it('leaves a recent read of another mover alone (it may still be working on it)', async () => {
    await accept();
    await log.ensureGroup();
    await log.read('busy', 10, 0);
    expect(await mover('other').moveAvailable(60_000)).toBe(0);
    expect(await log.backlog()).toEqual({ waiting: 1, pending: 1, deadLettered: 0 });
  });

  it('running, moves entries as they arrive, and stops promptly', async () => {
    const events = new QueueEvents('stripe-events', { connection: { host: '127.0.0.1', port: server.port }, prefix });
    await events.waitUntilReady();
    try {
      const running = mover('loop');
      running.start();
      const event = buildStripeEvent('customer.created');
      const added = new Promise<string>((resolve) => events.on('waiting', ({ jobId }) => jobId === event.id && resolve(jobId)));
      expect(await log.append(event.id, JSON.stringify(event))).toBe(true);
      expect(await added).toBe(event.id);
      const stopping = running.stop();
      await expect(stopping).resolves.toBeUndefined();
    } finally {
      await events.close();
    }
  });

  it('when Redis loses the log and its group (a flush), makes the group again and goes on moving', async () => {
    const running = mover('survivor');
    running.start();
    await accept();
    await redis.flushall();
    const { event } = await accept();
    const deadline = Date.now() + 15_000;
    while (!(await queue.getJob(event.id)) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 25));
    expect((await queue.getJob(event.id))?.id).toBe(event.id);
  });

  it('drops an entry that is not the event it names, with an error line, without holding up the others', async () => {
    const good = await accept();
    await redis.xadd(log.stream, '*', 'id', 'evt_corrupt', 'receivedAt', '1', 'body', '{"id":"evt_other"');
    const { logger, lines } = capturingLogger();
    expect(await mover('m2', logger).moveAvailable()).toBe(1);
    expect(await queue.getJob(good.event.id)).toBeDefined();
    expect(await log.backlog()).toEqual({ waiting: 0, pending: 0, deadLettered: 0 });
    expect(lines).toContainEqual(expect.objectContaining({ level: 50, eventId: 'evt_corrupt', msg: 'intake entry is not the Stripe event it names; dropped' }));
  });

  // A body JSON.parse reads and JSON.stringify cannot write (V8 parses nesting iteratively, writes it recursively).
  const deepBody = (id: string) => {
    const depth = 20_000;
    return `{"id":"${id}","type":"customer.created","data":{"object":{"id":"cus_deep","n":${'['.repeat(depth)}${']'.repeat(depth)}}}}`;
  };

  it('poison pills in a batch (all-digit ids BullMQ refuses) are dead-lettered with their error, and the rest of the batch is queued', async () => {
    const first = await accept();
    const digits = buildStripeEvent('customer.created', { id: '12345' });
    expect(await log.append('12345', JSON.stringify(digits), 1_764_000_000_001)).toBe(true);
    const digits2 = buildStripeEvent('customer.created', { id: '67890' });
    expect(await log.append('67890', JSON.stringify(digits2), 1_764_000_000_002)).toBe(true);
    const last = await accept('invoice.paid');
    const { logger, lines } = capturingLogger();

    expect(await mover('m3', logger).moveAvailable()).toBe(2);

    expect((await queue.getJob(first.event.id))?.id).toBe(first.event.id);
    expect((await queue.getJob(last.event.id))?.id).toBe(last.event.id);
    expect(await index.get(first.event.id)).toMatchObject({ status: 'queued' });
    expect(await index.get('12345')).toMatchObject({ id: '12345', status: 'dead-lettered', lastError: expect.stringContaining('Custom Id cannot be integers') });
    expect(await index.get('67890')).toMatchObject({ status: 'dead-lettered', lastError: expect.stringContaining('Custom Id cannot be integers') });
    expect(await index.payload('67890')).toBe(JSON.stringify(digits2));
    // Out of the log (never retried), into the dead-letter list with its error.
    expect(await log.backlog()).toEqual({ waiting: 0, pending: 0, deadLettered: 2 });
    const letters = await log.deadLetters();
    expect(letters.map((l) => l.eventId)).toEqual(['67890', '12345']);
    // The record holds the payload, so the letter does not repeat it.
    expect(letters[1]).toMatchObject({ receivedAt: 1_764_000_000_001, body: '', error: expect.stringContaining('Custom Id cannot be integers') });
    expect(lines).toContainEqual(expect.objectContaining({ level: 50, eventId: '12345', msg: 'intake entry cannot be queued; dead-lettered' }));
    expect(await mover('m3-again').moveAvailable(0)).toBe(0);
    expect(await queue.count()).toBe(2);
  });

  it('a payload JSON.stringify cannot write is no longer a poison pill: the job refers to it, nothing serialises a copy', async () => {
    expect(await log.append('evt_deep', deepBody('evt_deep'), 1_764_000_000_002)).toBe(true);
    expect(await mover('deep').moveAvailable()).toBe(1);
    expect((await queue.getJob('evt_deep'))?.data).toEqual({ payloadOf: 'evt_deep' });
    expect(await index.get('evt_deep')).toMatchObject({ status: 'queued' });
    expect(await index.payload('evt_deep')).toBe(deepBody('evt_deep'));
    expect(await log.backlog()).toEqual({ waiting: 0, pending: 0, deadLettered: 0 });
  });

  it('when the event index cannot take a poison pill either, its letter keeps the body and it still leaves the log', async () => {
    const good = await accept();
    const digits = buildStripeEvent('customer.created', { id: '54321' });
    await log.append('54321', JSON.stringify(digits));
    const refusing: Pick<EventIndex, 'record' | 'setStatuses'> = {
      record: (summary, payload, at) => (summary.id === '54321' ? Promise.reject(new Error('ERR the record script failed')) : index.record(summary, payload, at)),
      setStatuses: (updates) => index.setStatuses(updates),
    };
    const made = new IntakeMover({ reader: log, log, index: refusing, queue, logger: pino({ level: 'silent' }), consumer: 'no-record' });
    expect(await made.moveAvailable()).toBe(1);
    expect((await queue.getJob(good.event.id))?.id).toBe(good.event.id);
    expect(await log.backlog()).toEqual({ waiting: 0, pending: 0, deadLettered: 1 });
    expect((await log.deadLetters())[0]).toMatchObject({ eventId: '54321', body: JSON.stringify(digits) });
  });

  it('running, a poison pill does not hold up the events read with it', async () => {
    const running = mover('loop-poison');
    await log.append('777', JSON.stringify(buildStripeEvent('customer.created', { id: '777' })));
    const good = await accept();
    running.start();
    const deadline = Date.now() + 15_000;
    while (!(await queue.getJob(good.event.id)) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 25));
    expect((await queue.getJob(good.event.id))?.id).toBe(good.event.id);
    while ((await log.backlog()).waiting > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 25));
    expect(await log.backlog()).toEqual({ waiting: 0, pending: 0, deadLettered: 1 });
  });

  it('when Redis refuses the batch because it is full (OOM), dead-letters nothing and leaves the batch in the log for the next round', async () => {
    await accept();
    await accept();
    const full = Object.assign(new Error('OOM command not allowed when used memory > \'maxmemory\'.'), { name: 'ReplyError' });
    const refusing = { addBulk: () => Promise.reject(full) };
    const made = new IntakeMover({ reader: log, log, index, queue: refusing, logger: pino({ level: 'silent' }), consumer: 'oom' });
    await expect(made.moveAvailable()).rejects.toThrow('OOM');
    expect(await log.backlog()).toEqual({ waiting: 2, pending: 2, deadLettered: 0 });
    expect(await mover('after-oom').moveAvailable(0)).toBe(2);
  });

  it('keeps only the newest dead letters (the list is bounded)', async () => {
    await log.ensureGroup();
    // Sent in order on one connection, so evt_{max + 4} is the newest.
    await Promise.all(
      Array.from({ length: DEAD_LETTER_MAX + 5 }, (_, i) => log.deadLetter([{ entry: { entryId: '0-1', eventId: `evt_${i}`, receivedAt: i, body: '{}' }, error: 'e' }])),
    );
    expect((await log.backlog()).deadLettered).toBe(DEAD_LETTER_MAX);
    expect((await log.deadLetters(1))[0]?.eventId).toBe(`evt_${DEAD_LETTER_MAX + 4}`);
  });

  // The bodies of one batch: recorded (the only copy) just before the batch's jobs are added.
  const measuringBatches = () => {
    const batches: number[] = [];
    let bytes = 0;
    const recording: Pick<EventIndex, 'record' | 'setStatuses'> = {
      record: (summary, payload, at) => {
        bytes += Buffer.byteLength(payload);
        return index.record(summary, payload, at);
      },
      setStatuses: (updates) => index.setStatuses(updates),
    };
    const measuring = { addBulk: (jobs: Parameters<Queue['addBulk']>[0]) => {
      batches.push(bytes);
      bytes = 0;
      return queue.addBulk(jobs);
    } };
    return { batches, measuring, recording };
  };

  it('a burst of large events (30 x 1 MB) is moved in batches that never hold more than INTAKE_BATCH_MAX_BYTES (4 MB), not 200 at a time', async () => {
    const MB = 1024 * 1024;
    const ids: string[] = [];
    for (let i = 0; i < 30; i += 1) {
      const event = { ...buildStripeEvent('customer.created'), pad: 'x'.repeat(MB - 2048) };
      ids.push(event.id);
      await log.append(event.id, JSON.stringify(event));
    }
    const { batches, measuring, recording } = measuringBatches();
    const made = new IntakeMover({ reader: log, log, index: recording, queue: measuring, logger: pino({ level: 'silent' }), consumer: 'bytes' }, { batchMaxBytes: 4 * MB });
    expect(await made.moveAvailable()).toBe(30);
    expect(await queue.count()).toBe(30);
    expect(Math.max(...batches)).toBeLessThanOrEqual(4 * MB);
    expect(batches.length).toBeGreaterThanOrEqual(8);
    expect(await log.backlog()).toEqual({ waiting: 0, pending: 0, deadLettered: 0 });
  });

  it('running, a large event waits for room: the blocking read takes one entry and only what fits beside it', async () => {
    const MB = 1024 * 1024;
    const { batches, measuring, recording } = measuringBatches();
    const made = new IntakeMover({ reader: new IntakeLog(reader, config()), log, index: recording, queue: measuring, logger: pino({ level: 'silent' }), consumer: 'bytes-loop' }, { batchMaxBytes: 2 * MB, blockMs: 100 });
    movers.push(made);
    await log.ensureGroup();
    made.start();
    const ids: string[] = [];
    for (let i = 0; i < 6; i += 1) {
      const event = { ...buildStripeEvent('customer.created'), pad: 'x'.repeat(MB - 2048) };
      ids.push(event.id);
      await log.append(event.id, JSON.stringify(event));
    }
    const deadline = Date.now() + 15_000;
    while ((await queue.count()) < 6 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 25));
    expect(await queue.count()).toBe(6);
    expect(Math.max(...batches)).toBeLessThanOrEqual(2 * MB);
  });
});
