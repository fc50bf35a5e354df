import pino from 'pino';
import { EventIndex } from '../../src/events/event-index';
import { intakeLogFor } from '../../src/events/intake-log';
import { QUEUE_NAMES } from '../../src/queues';
import { IntakeMover } from '../../src/worker/intake-mover';
import { startTestApp, type TestApp } from '../support/app';
import { startRedis, type TestRedis } from '../support/redis';
import { deliver, fixtureEvent, WEBHOOK_SECRET } from './webhooks-support';

const TOKEN = 'dedup-window-admin-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };

describe('the dedup window is independent of record and payload retention', () => {
  let redis: TestRedis;
  let app: TestApp;
  const queue = () => app.deps.queues[QUEUE_NAMES.stripeEvents];
  // A mover whose index keeps at most `payloadMaxBytes` of compressed payloads (EVENT_PAYLOAD_MAX_MB, in bytes).
  const moverWithBudget = (payloadMaxBytes: number) => {
    const log = intakeLogFor(app.deps.redis, app.deps.config);
    return new IntakeMover({
      reader: log,
      log,
      index: new EventIndex(app.deps.redis, app.deps.config, { payloadMaxBytes }),
      queue: queue(),
      logger: pino({ level: 'silent' }),
      consumer: 'budget',
    });
  };
  const index = () => new EventIndex(app.deps.redis, app.deps.config);

  beforeAll(async () => {
    redis = await startRedis({ appendOnly: false });
  });
  beforeEach(async () => {
    // The smallest record cap there is: the old design forgot an id once 100 newer events came.
    app = await startTestApp(redis.url, { STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET, ADMIN_TOKEN: TOKEN, EVENT_INDEX_MAX_EVENTS: '100' });
  });
  afterEach(async () => {
    await queue().obliterate({ force: true }).catch(() => undefined);
    await app.deps.redis.flushall();
    await app.close();
  });
  afterAll(async () => {
    await redis.destroy();
  });

  it('a redelivery after its payload was trimmed by bytes and its record dropped by the count cap is still a duplicate: 200 duplicate:true, no second job', async () => {
    const first = fixtureEvent('customer.created');
    expect((await deliver(app.url, first.payload)).body.duplicate).toBe(false);
    const mover = moverWithBudget(4000);
    expect(await mover.moveAvailable()).toBe(1);

    // 110 newer events: past the 100-record cap, and far past 4,000 bytes of payloads.
    for (let i = 0; i < 110; i += 10) {
      const answers = await Promise.all(Array.from({ length: 10 }, () => deliver(app.url, fixtureEvent('invoice.paid').payload)));
      expect(answers.every((a) => a.status === 200 && a.body.duplicate === false)).toBe(true);
      await mover.moveAvailable();
    }
    expect(await index().payload(first.event.id)).toBeUndefined();
    expect(await index().get(first.event.id)).toBeUndefined();
    // Its job completed and was removed long ago (BullMQ's retention), as in production.
    await (await queue().getJob(first.event.id))!.remove();

    const again = await deliver(app.url, first.payload);
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ received: true, duplicate: true });
    expect(await mover.moveAvailable()).toBe(0);
    expect(await queue().getJob(first.event.id)).toBeUndefined();
  });

  it('payloads are kept within the byte budget, oldest first; a record whose payload went says payloadExpired, and its replay answers 409 PAYLOAD_EXPIRED with an explanation', async () => {
    const old = fixtureEvent('payment_intent.succeeded');
    expect((await deliver(app.url, old.payload)).status).toBe(200);
    const mover = moverWithBudget(3000);
    await mover.moveAvailable();
    const newer = [];
    for (let i = 0; i < 20; i += 1) {
      const e = fixtureEvent('charge.succeeded');
      newer.push(e);
      expect((await deliver(app.url, e.payload)).status).toBe(200);
      await mover.moveAvailable();
    }
    // Within the budget: the newest payloads are there, the oldest went first.
    const base = `${app.deps.config.QUEUE_PREFIX}:{event-index}`;
    const counted = Number(await app.deps.redis.get(`${base}:payload-bytes`));
    expect(counted).toBeLessThanOrEqual(3000);
    expect(await index().payload(newer[19]!.event.id)).toBe(newer[19]!.payload);

    const one = await fetch(`${app.url}/api/events/${old.event.id}`, { headers: auth });
    expect(one.status).toBe(200);
    expect(await one.json()).toMatchObject({ id: old.event.id, payloadExpired: true, payload: null });

    const replay = await fetch(`${app.url}/api/events/${old.event.id}/replay`, { method: 'POST', headers: auth });
    expect(replay.status).toBe(409);
    expect(replay.headers.get('content-type')).toContain('application/problem+json');
    const problem = (await replay.json()) as { code: string; detail: string };
    expect(problem.code).toBe('PAYLOAD_EXPIRED');
    expect(problem.detail).toMatch(/no longer stored/);
    expect(problem.detail).toMatch(/EVENT_PAYLOAD_MAX_MB/);
    expect(await queue().getJob(`${old.event.id}-replay-1`)).toBeUndefined();

    // The dedup window still knows it.
    expect((await deliver(app.url, old.payload)).body.duplicate).toBe(true);
  });

  it('an event created long before the window (reconciled from Stripe\'s 30-day list) is remembered on arrival: its second copy is a duplicate', async () => {
    const log = intakeLogFor(app.deps.redis, app.deps.config);
    const tenDaysAgo = Math.floor(Date.now() / 1000) - 10 * 86_400;
    const { event } = fixtureEvent('customer.created');
    const body = JSON.stringify({ ...event, created: tenDaysAgo });
    expect(await log.appendReconciled(event.id, body, Date.now(), tenDaysAgo)).toBe(true);
    expect(await log.appendReconciled(event.id, body, Date.now(), tenDaysAgo)).toBe(false);
    // Kept by the hour it arrived, expiring a full window later (not within the hour, as its created hour's would).
    const ttl = await app.deps.redis.ttl(`${log.dedupPrefix}:${Math.floor(Date.now() / 3_600_000)}`);
    expect(ttl).toBeGreaterThan(app.deps.config.DEDUP_WINDOW_HOURS * 3600);
  });

  it('ids are kept as listpack hash fields without the evt_ prefix, in the bucket of the hour the event was created', async () => {
    const { event, payload } = fixtureEvent('customer.created');
    expect((await deliver(app.url, payload)).status).toBe(200);
    const hour = Math.floor(event.created / 3600);
    const log = intakeLogFor(app.deps.redis, app.deps.config);
    const keys = await app.deps.redis.keys(`${log.dedupPrefix}:${hour}:*`);
    expect(keys).toHaveLength(1);
    expect(await app.deps.redis.hkeys(keys[0]!)).toEqual([event.id.slice(4)]);
    expect(await app.deps.redis.object('ENCODING', keys[0]!)).toBe('listpack');
    const expireAt = (hour + 1 + app.deps.config.DEDUP_WINDOW_HOURS) * 3600;
    expect(Math.abs((await app.deps.redis.ttl(keys[0]!)) - (expireAt - Math.floor(Date.now() / 1000)))).toBeLessThan(5);
  });
});
