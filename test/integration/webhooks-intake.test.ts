import { signStripePayload } from '../../src/dev/stripe-event-builder';
import { QUEUE_NAMES } from '../../src/queues';
import { waitForRedis } from '../../src/redis';
import { eventIndexFor } from '../../src/events/event-index';
import { intakeLogFor } from '../../src/events/intake-log';
import { startTestApp, type TestApp } from '../support/app';
import { startRedis, type TestRedis } from '../support/redis';
import { deliver, fixtureEvent, WEBHOOK_SECRET } from './webhooks-support';

describe('POST /webhooks/stripe', () => {
  let redis: TestRedis;
  let app: TestApp;
  const queue = () => app.deps.queues[QUEUE_NAMES.stripeEvents];
  const index = () => eventIndexFor(app.deps.redis, app.deps.config);
  // Moves what the intake log holds first (a worker would), so "no job" also means "nothing stored".
  const jobCount = async () => {
    await app.moveIntake();
    const counts = await queue().getJobCounts('waiting', 'active', 'completed', 'failed', 'delayed', 'prioritized');
    return Object.values(counts).reduce((a, b) => a + b, 0);
  };

  beforeAll(async () => {
    redis = await startRedis({ appendOnly: false });
  });
  beforeEach(async () => {
    app = await startTestApp(redis.url, { STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET });
  });
  afterEach(async () => {
    await queue().obliterate({ force: true }).catch(() => undefined);
    await app.close();
  });
  afterAll(async () => {
    await redis.destroy();
  });

  it('when the signature is valid, answers 200 duplicate:false, queues one job named by type with jobId = event id, and indexes it', async () => {
    const { event, payload } = fixtureEvent('payment_intent.succeeded', { account: 'acct_1Test' });
    const res = await deliver(app.url, payload);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ received: true, duplicate: false });
    expect(res.headers.get('x-request-id')).toBeTruthy();
    expect(await app.moveIntake()).toBe(1);
    const job = await queue().getJob(event.id);
    expect(job?.name).toBe('payment_intent.succeeded');
    expect(job?.data).toEqual({ payloadOf: event.id });
    const record = await index().get(event.id);
    expect(record).toMatchObject({
      id: event.id,
      type: 'payment_intent.succeeded',
      account: 'acct_1Test',
      objectId: 'pi_1PgafyB7WZ01zgkWSjxsAJo3',
      status: 'queued',
      jobId: event.id,
      replays: 0,
    });
    expect(await index().payload(event.id)).toBe(payload);
  });

  it('when the same event is delivered again, answers duplicate:true and creates no second job', async () => {
    const { payload } = fixtureEvent('customer.created');
    expect((await deliver(app.url, payload)).body.duplicate).toBe(false);
    expect((await deliver(app.url, payload)).body).toEqual({ received: true, duplicate: true });
    expect(await jobCount()).toBe(1);
  });

  it('when ten redeliveries arrive at once, exactly one answers duplicate:false and one job exists', async () => {
    const { payload } = fixtureEvent('charge.succeeded');
    const answers = await Promise.all(Array.from({ length: 10 }, () => deliver(app.url, payload)));
    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(200));
    expect(answers.filter((a) => a.body.duplicate === false)).toHaveLength(1);
    expect(await jobCount()).toBe(1);
  });

  it('when the event comes back after its job completed and was removed, still answers duplicate:true', async () => {
    const { event, payload } = fixtureEvent('invoice.paid');
    await deliver(app.url, payload);
    await app.moveIntake();
    await (await queue().getJob(event.id))!.remove();
    expect(await queue().getJob(event.id)).toBeUndefined();
    const again = await deliver(app.url, payload);
    expect(again.body).toEqual({ received: true, duplicate: true });
    expect(await jobCount()).toBe(0);
  });

  it('an accepted event waits in the intake log until a worker moves it; a redelivery meanwhile is a duplicate', async () => {
    const { event, payload } = fixtureEvent('customer.updated');
    expect((await deliver(app.url, payload)).body).toEqual({ received: true, duplicate: false });
    expect(await queue().getJob(event.id)).toBeUndefined();
    expect(await index().get(event.id)).toBeUndefined();
    expect(await intakeLogFor(app.deps.redis, app.deps.config).backlog()).toEqual({ waiting: 1, pending: 0, deadLettered: 0 });
    expect((await deliver(app.url, payload)).body).toEqual({ received: true, duplicate: true });
    expect(await app.moveIntake()).toBe(1);
    expect(await queue().getJob(event.id)).toBeDefined();
    expect(await index().payload(event.id)).toBe(payload);
    expect(await intakeLogFor(app.deps.redis, app.deps.config).backlog()).toEqual({ waiting: 0, pending: 0, deadLettered: 0 });
    expect((await deliver(app.url, payload)).body).toEqual({ received: true, duplicate: true });
    expect(await jobCount()).toBe(1);
  });

  it('when the body was changed after signing, answers 400 SIGNATURE_INVALID problem+json and enqueues nothing', async () => {
    const { payload } = fixtureEvent('customer.created');
    const signature = signStripePayload(payload, WEBHOOK_SECRET);
    const tampered = payload.replace('"livemode": false', '"livemode": true');
    expect(tampered).not.toBe(payload);
    const res = await deliver(app.url, tampered, { signature });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(res.body.code).toBe('SIGNATURE_INVALID');
    expect(await jobCount()).toBe(0);
  });

  it.each([
    ['signed with another secret', { secret: 'whsec_not_ours' }, 'SIGNATURE_INVALID'],
    ['older than the tolerance', { timestamp: Math.floor(Date.now() / 1000) - 3600 }, 'SIGNATURE_EXPIRED'],
    ['without a Stripe-Signature header', { signature: null }, 'SIGNATURE_MISSING'],
    ['with a malformed Stripe-Signature', { signature: 'nonsense' }, 'SIGNATURE_MALFORMED'],
  ])('when the delivery is %s, answers 400 and enqueues and indexes nothing', async (_name, options, code) => {
    const { event, payload } = fixtureEvent('customer.created');
    const res = await deliver(app.url, payload, options);
    expect(res.status).toBe(400);
    expect(res.body.code).toBe(code);
    expect(await jobCount()).toBe(0);
    expect(await index().get(event.id)).toBeUndefined();
  });

  it('when the signed body is not an event with a usable id, answers 400 WEBHOOK_EVENT_INVALID', async () => {
    const res = await deliver(app.url, JSON.stringify({ id: 'evt:1', type: 'customer.created', data: { object: {} } }));
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('WEBHOOK_EVENT_INVALID');
    expect(await jobCount()).toBe(0);
  });

  it('poison pill: a signed event with an all-digit id (BullMQ refuses integer-like job ids) is refused with 400, and the valid deliveries around it are processed', async () => {
    const before = fixtureEvent('customer.created');
    const poison = fixtureEvent('customer.created', { id: '12345' });
    const after = fixtureEvent('invoice.paid');
    expect((await deliver(app.url, before.payload)).status).toBe(200);
    const refused = await deliver(app.url, poison.payload);
    expect((await deliver(app.url, after.payload)).status).toBe(200);
    expect(await app.moveIntake()).toBe(2);
    expect((await queue().getJob(before.event.id))?.id).toBe(before.event.id);
    expect((await queue().getJob(after.event.id))?.id).toBe(after.event.id);
    expect(refused.status).toBe(400);
    expect(refused.body.code).toBe('WEBHOOK_EVENT_INVALID');
    expect(await index().get('12345')).toBeUndefined();
  });

  it.each([['12345'], ['cus_123'], ['evt_'], ['evt_a b'], ['evt_1:2']])('when the signed event id %s is not evt_-shaped, answers 400 WEBHOOK_EVENT_INVALID and stores nothing', async (id) => {
    const { payload } = fixtureEvent('customer.created', { id });
    const res = await deliver(app.url, payload);
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('WEBHOOK_EVENT_INVALID');
    expect(await jobCount()).toBe(0);
  });

  it.each([['evt_1Pgc76B7WZ01zgkWwyRHS12y'], ['evt_test_65RM8sQ5BvXQ9xLbc16RM8sQ5BvXQ9xLbc16'], ['evt_bench_1a']])('accepts Stripe-shaped event id %s', async (id) => {
    const { payload } = fixtureEvent('customer.created', { id });
    expect((await deliver(app.url, payload)).status).toBe(200);
    expect(await jobCount()).toBe(1);
  });

  it('when the body is over BODY_LIMIT, answers 413 and enqueues nothing', async () => {
    await app.close();
    app = await startTestApp(redis.url, { STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET, BODY_LIMIT: '1kb' });
    const { payload } = fixtureEvent('payment_intent.succeeded');
    const res = await deliver(app.url, payload);
    expect(res.status).toBe(413);
    expect(res.body.code).toBe('PAYLOAD_TOO_LARGE');
    expect(await jobCount()).toBe(0);
  });

  it('when the previous secret is still listed (rotation), accepts deliveries signed with either', async () => {
    await app.close();
    app = await startTestApp(redis.url, { STRIPE_WEBHOOK_SECRET: `${WEBHOOK_SECRET}, whsec_previous_one` });
    for (const secret of [WEBHOOK_SECRET, 'whsec_previous_one']) {
      const { payload } = fixtureEvent('customer.created');
      expect((await deliver(app.url, payload, { secret })).status).toBe(200);
    }
    expect(await jobCount()).toBe(2);
  });

  it('when STRIPE_WEBHOOK_SECRET is not set, answers 503 WEBHOOK_NOT_CONFIGURED and enqueues nothing', async () => {
    await app.close();
    app = await startTestApp(redis.url, {});
    const { payload } = fixtureEvent('customer.created');
    const res = await deliver(app.url, payload);
    expect(res.status).toBe(503);
    expect(res.body.code).toBe('WEBHOOK_NOT_CONFIGURED');
    expect(String(res.body.detail)).toContain('STRIPE_WEBHOOK_SECRET');
    expect(await jobCount()).toBe(0);
  });
});

describe('POST /webhooks/stripe while Redis is away', () => {
  it('answers 503 REDIS_UNAVAILABLE with Retry-After, and accepts the same event once Redis is back', async () => {
    const redis = await startRedis();
    const app = await startTestApp(redis.url, { STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET });
    try {
      const { event, payload } = fixtureEvent('payment_intent.succeeded');
      await redis.stop();
      const down = await deliver(app.url, payload);
      expect(down.status).toBe(503);
      expect(down.body.code).toBe('REDIS_UNAVAILABLE');
      expect(down.headers.get('retry-after')).toMatch(/^\d+$/);
      await redis.start();
      await waitForRedis(app.deps.redis, 10_000);
      const up = await deliver(app.url, payload);
      expect(up.body).toEqual({ received: true, duplicate: false });
      expect(await app.moveIntake()).toBe(1);
      expect(await app.deps.queues[QUEUE_NAMES.stripeEvents].getJob(event.id)).toBeDefined();
    } finally {
      await app.close();
      app.deps.redis.disconnect();
      await redis.destroy();
    }
  });
});
