import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import pino from 'pino';
import { buildStripeEvent } from '../../src/dev/stripe-event-builder';
import { EventIndex } from '../../src/events/event-index';
import { IntakeLog } from '../../src/events/intake-log';
import { IntakeMover } from '../../src/worker/intake-mover';
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

  const config = () => ({ QUEUE_PREFIX: prefix, EVENT_INDEX_RETENTION_DAYS: 30, EVENT_INDEX_MAX_EVENTS: 1000 });
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

  it('turns each entry into a job (jobId = event id) and a record with the time the web accepted it, then empties the log', async () => {
    const { event, body } = await accept('payment_intent.succeeded');
    expect(await mover('m1').moveAvailable()).toBe(1);
    const job = await queue.getJob(event.id);
    expect(job?.name).toBe('payment_intent.succeeded');
    expect((job?.data as { id: string }).id).toBe(event.id);
    expect(await index.get(event.id)).toMatchObject({ id: event.id, type: 'payment_intent.succeeded', status: 'queued', receivedAt: new Date(1_764_000_000_000).toISOString() });
    expect(await index.payload(event.id)).toBe(body);
    expect(await log.backlog()).toEqual({ waiting: 0, pending: 0 });
    // The marker is gone and the record answers for the id: a redelivery is still a duplicate.
    expect(await redis.exists(`${prefix}:{event-index}:seen:${event.id}`)).toBe(0);
    expect(await log.append(event.id, Buffer.from(body))).toBe(false);
  });

  it('takes over what a mover read and never finished (it died), and queues each event once', async () => {
    const first = await accept();
    const second = await accept();
    // The dead mover read both and had added one job when it died.
    await log.ensureGroup();
    expect(await log.read('dead', 10, 0)).toHaveLength(2);
    await queue.add(first.event.type, first.event, { jobId: first.event.id });
    expect(await log.backlog()).toEqual({ waiting: 2, pending: 2 });
    expect(await mover('alive').moveAvailable(0)).toBe(2);
    expect(await queue.count()).toBe(2);
    expect((await queue.getJob(second.event.id))?.id).toBe(second.event.id);
    expect(await index.get(first.event.id)).toBeDefined();
    expect(await log.backlog()).toEqual({ waiting: 0, pending: 0 });
  });

  it('leaves a recent read of another mover alone (it may still be working on it)', async () => {
    await accept();
    await log.ensureGroup();
    await log.read('busy', 10, 0);
    expect(await mover('other').moveAvailable(60_000)).toBe(0);
    expect(await log.backlog()).toEqual({ waiting: 1, pending: 1 });
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
    expect(await log.backlog()).toEqual({ waiting: 0, pending: 0 });
    expect(lines).toContainEqual(expect.objectContaining({ level: 50, eventId: 'evt_corrupt', msg: 'intake entry is not the Stripe event it names; dropped' }));
  });
});
