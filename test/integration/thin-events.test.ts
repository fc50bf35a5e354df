import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import pino from 'pino';
import { startStripeEmulator, type StripeEmulator } from '../../src/dev/stripe-emulator';
import { buildStripeEvent, signStripePayload } from '../../src/dev/stripe-event-builder';
import { eventIndexFor, type EventIndex } from '../../src/events/event-index';
import { QUEUE_NAMES } from '../../src/queues';
import { STRIPE_EVENT_HANDLERS } from '../../src/worker/handlers';
import { defineV2Handler, HandlerRegistry } from '../../src/worker/handlers/handler-registry';
import { runStripeEvent, servicesFromConfig, type StripeEventRuntime } from '../../src/worker/processors/stripe-event';
import { startTestApp, type TestApp } from '../support/app';
import { startRedis, type TestRedis } from '../support/redis';
import { deliver, WEBHOOK_SECRET } from './webhooks-support';

const THIN_SECRET = 'whsec_thin_destination_secret';
const STRIPE_KEY = 'sk_test_thinevents0001';
const ADMIN_TOKEN = 'thin-events-admin-token-0001';

describe('thin events (event notifications) on the same intake', () => {
  let redis: TestRedis;
  let emulator: StripeEmulator;
  let app: TestApp;
  let index: EventIndex;
  let runtime: StripeEventRuntime & { services: { close(): Promise<void> } };

  beforeAll(async () => {
    redis = await startRedis({ appendOnly: false });
    emulator = await startStripeEmulator({ secretKey: STRIPE_KEY });
  });
  beforeEach(async () => {
    app = await startTestApp(redis.url, {
      STRIPE_WEBHOOK_SECRET: `${WEBHOOK_SECRET},${THIN_SECRET}`,
      STRIPE_SECRET_KEY: STRIPE_KEY,
      STRIPE_API_BASE: emulator.url,
      ADMIN_TOKEN,
    });
    index = eventIndexFor(app.deps.redis, app.deps.config);
    const logger = pino({ level: 'silent' });
    const services = servicesFromConfig(app.deps.config, logger);
    // Jobs carry a reference to the stored payload: the runtime reads it as the sandbox's does.
    runtime = { handlers: STRIPE_EVENT_HANDLERS, services, logger, loadPayload: services.loadPayload };
  });
  afterEach(async () => {
    await runtime.services.close();
    await app.deps.queues[QUEUE_NAMES.stripeEvents].obliterate({ force: true });
    await app.close();
  });
  afterAll(async () => {
    await emulator.stop();
    await redis.destroy();
  });

  const snapshotOf = (type = 'customer.created') => {
    const event = emulator.events.add(buildStripeEvent(type));
    return { event, payload: JSON.stringify(event, null, 2) };
  };
  const thinOf = (snapshot: ReturnType<typeof buildStripeEvent>) => JSON.stringify(emulator.events.addThinFor(snapshot), null, 2);
  const deliverThin = (payload: string) => deliver(app.url, payload, { secret: THIN_SECRET });
  const jobs = async () => app.deps.queues[QUEUE_NAMES.stripeEvents].getJobs(['waiting', 'active', 'completed', 'failed', 'delayed']);
  const runJob = async (id: string) => {
    const job = (await app.deps.queues[QUEUE_NAMES.stripeEvents].getJob(id))!;
    return runStripeEvent({ ...job, attemptsMade: 0, id: job.id, name: job.name, data: job.data, log: async () => 0, updateProgress: async () => undefined }, runtime);
  };

  test('a notification signed by the thin destination\'s secret is verified, stored once (200 duplicate false, then true) and recorded as thin', async () => {
    const { event } = snapshotOf();
    const payload = thinOf(event);

    const first = await deliverThin(payload);
    const again = await deliverThin(payload);
    await app.moveIntake();

    expect(first).toMatchObject({ status: 200, body: { received: true, duplicate: false } });
    expect(again).toMatchObject({ status: 200, body: { received: true, duplicate: true } });
    const notification = JSON.parse(payload) as { id: string };
    expect(await index.get(event.id)).toMatchObject({ id: event.id, type: 'customer.created', source: 'thin', thinEventId: notification.id, status: 'queued' });
    expect((await jobs()).map((j) => j.id)).toEqual([event.id]);
  });

  test('a notification that does not verify is refused with 400 and nothing is stored', async () => {
    const { event } = snapshotOf();
    const payload = thinOf(event);

    const forged = await deliver(app.url, payload, { secret: 'whsec_not_configured' });
    const tampered = await deliver(app.url, payload.replace('customer.created', 'customer.deleted'), { signature: signStripePayload(payload, THIN_SECRET) });

    expect(forged).toMatchObject({ status: 400, body: { code: 'SIGNATURE_INVALID' } });
    expect(tampered).toMatchObject({ status: 400, body: { code: 'SIGNATURE_INVALID' } });
    expect(await app.moveIntake()).toBe(0);
  });

  test('migration, snapshot first: the thin notification of the same change is a duplicate, one job, and the record links the two', async () => {
    const { event, payload } = snapshotOf();
    const thin = thinOf(event);

    const snapshotAnswer = await deliver(app.url, payload);
    await app.moveIntake();
    const thinAnswer = await deliverThin(thin);
    await app.moveIntake();

    expect(snapshotAnswer.body).toEqual({ received: true, duplicate: false });
    expect(thinAnswer.body).toEqual({ received: true, duplicate: true });
    expect((await jobs()).map((j) => j.id)).toEqual([event.id]);
    expect(await index.get(event.id)).toMatchObject({ source: 'webhook', thinEventId: (JSON.parse(thin) as { id: string }).id });
  });

  test('migration, both before any worker moved them: one job, and the link survives the move', async () => {
    const { event, payload } = snapshotOf();
    const thin = thinOf(event);

    const answers = [await deliver(app.url, payload), await deliverThin(thin)];
    const moved = await app.moveIntake();

    expect(answers.map((a) => a.body.duplicate)).toEqual([false, true]);
    expect(moved).toBe(1);
    expect(await index.get(event.id)).toMatchObject({ source: 'webhook', thinEventId: (JSON.parse(thin) as { id: string }).id });
  });

  test('migration, thin first: the snapshot event is the duplicate, and the handler runs once with the full snapshot event', async () => {
    const { event, payload } = snapshotOf();

    const thinAnswer = await deliverThin(thinOf(event));
    const snapshotAnswer = await deliver(app.url, payload);
    await app.moveIntake();
    const result = await runJob(event.id);

    expect([thinAnswer.body.duplicate, snapshotAnswer.body.duplicate]).toEqual([false, true]);
    expect((await jobs()).map((j) => j.id)).toEqual([event.id]);
    const customer = event.data.object as { id: string };
    expect(result).toEqual({ status: 'succeeded', result: { customer: customer.id, email: null, livemode: event.livemode } });
  });

  test('one handler for both shapes: customer.created\'s handler runs for v1.customer.created with the fetched event, and can ask for the object\'s current state', async () => {
    const { event } = snapshotOf();
    const seen: unknown[] = [];
    const handlers = new HandlerRegistry([
      { type: 'customer.created', handle: async (e, ctx) => { seen.push({ event: e, delivery: ctx.delivery, object: await ctx.relatedObject() }); return {}; } },
    ]);
    runtime = { ...runtime, handlers };

    await deliverThin(thinOf(event));
    await app.moveIntake();
    await runJob(event.id);

    expect(seen).toEqual([{ event: expect.objectContaining({ id: event.id, type: 'customer.created', data: event.data }), delivery: 'thin', object: event.data.object }]);
  });

  test('a v2 event type is registered like any other and gets its fetched v2 event; a type nobody handles fetches nothing', async () => {
    const thin = emulator.events.addThin({
      id: 'evt_test_65v2account', object: 'v2.core.event', type: 'v2.core.account.updated', created: new Date().toISOString(), livemode: false,
      related_object: { id: 'acct_1V2', type: 'v2.core.account', url: '/v2/core/accounts/acct_1V2' }, data: { note: 'v2 data' },
    });
    const ignored = emulator.events.addThin({ ...thin, id: 'evt_test_65v2ignored', type: 'v2.core.account.closed' });
    const got: unknown[] = [];
    runtime = { ...runtime, handlers: new HandlerRegistry([defineV2Handler('v2.core.account.updated', async (e) => { got.push(e); return { ok: true }; })]) };

    await deliverThin(JSON.stringify(thin));
    await deliverThin(JSON.stringify(ignored));
    await app.moveIntake();
    const before = emulator.rateLimit.admitted;
    const results = [await runJob(thin.id), await runJob(ignored.id)];

    expect(results).toEqual([{ status: 'succeeded', result: { ok: true } }, { status: 'ignored' }]);
    expect(got).toEqual([expect.objectContaining({ id: thin.id, type: 'v2.core.account.updated', data: { note: 'v2 data' } })]);
    expect(emulator.rateLimit.admitted - before).toBe(1);
    expect(await index.get(thin.id)).toMatchObject({ type: 'v2.core.account.updated', source: 'thin', thinEventId: thin.id });
  });

  test('v2.core.health.event_generation_failure.resolved is handled by default: logged at error level, recorded, shown in the overview with what to re-fetch', async () => {
    const health = emulator.events.addThin({
      id: 'evt_test_65health', object: 'v2.core.event', type: 'v2.core.health.event_generation_failure.resolved', created: new Date().toISOString(), livemode: false,
      related_object: null,
      data: {
        alert_id: 'alrt_1', grouping_key: 'gk_1', severity: 'critical', resolved_at: '2026-12-01T06:00:00.000Z', summary: 'Events for 3 customers were not generated',
        impact: { event_type: 'customer.updated', related_object: { id: 'cus_Missing1', type: 'customer', url: '/v1/customers/cus_Missing1' } },
      },
    });
    const lines: Record<string, unknown>[] = [];
    runtime = { ...runtime, logger: pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) }) };

    await deliverThin(JSON.stringify(health));
    await app.moveIntake();
    const result = await runJob(health.id);
    const overview = (await (await fetch(`${app.url}/api/admin/overview`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).json()) as { healthAlerts: unknown[] };

    expect(result).toMatchObject({ status: 'succeeded', result: { alert: 'alrt_1', refetch: { url: '/v1/customers/cus_Missing1' } } });
    expect(lines.find((l) => l.level === 50)).toMatchObject({ msg: expect.stringContaining('failed to generate'), eventId: health.id });
    expect(overview.healthAlerts).toEqual([expect.objectContaining({ eventId: health.id, severity: 'critical', eventType: 'customer.updated', refetch: { id: 'cus_Missing1', type: 'customer', url: '/v1/customers/cus_Missing1' } })]);
  });

  test('npm run webhook -- customer.created --thin: the emulator holds the full event, the notification is delivered and its handler gets the event', async () => {
    const cli = path.resolve(__dirname, '../../src/dev/send-webhook.ts');
    const { stdout } = await promisify(execFile)('npx', ['tsx', cli, 'customer.created', '--thin', '--url', app.url, '--secret', THIN_SECRET], {
      env: { ...process.env, STRIPE_API_BASE: emulator.url, STRIPE_SECRET_KEY: STRIPE_KEY },
      timeout: 60_000,
    });
    const snapshotId = /snapshot (evt_\w+)/.exec(stdout)?.[1];
    await app.moveIntake();

    expect(stdout).toContain('200 {"received":true,"duplicate":false}');
    expect(await index.get(snapshotId!)).toMatchObject({ source: 'thin', type: 'customer.created' });
    expect(await runJob(snapshotId!)).toMatchObject({ status: 'succeeded', result: { customer: expect.stringMatching(/^cus_/) } });
  });
});
