import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import pino from 'pino';
import { startStripeEmulator, type StripeEmulator } from '../../src/dev/stripe-emulator';
import { buildStripeEvent } from '../../src/dev/stripe-event-builder';
import { loadConfig } from '../../src/config';
import { eventIndexFor } from '../../src/events/event-index';
import { intakeLogFor } from '../../src/events/intake-log';
import { QUEUE_NAMES } from '../../src/queues';
import { Reconciler, reconcileKeys } from '../../src/stripe/reconciler';
import { RECONCILE_QUEUE } from '../../src/stripe/reconcile-queue';
import { StripeApiBudget } from '../../src/stripe/stripe-api-budget';
import { createStripeClient } from '../../src/stripe/stripe-client';
import { StripeFetcher } from '../../src/stripe/stripe-fetcher';
import { startReconciliation } from '../../src/worker/reconcile-schedule';
import { startTestApp, type TestApp } from '../support/app';
import { startRedis, type TestRedis } from '../support/redis';
import { deliver, WEBHOOK_SECRET } from './webhooks-support';

const STRIPE_KEY = 'sk_test_reconcile0001';
const ADMIN_TOKEN = 'reconcile-admin-token-0001';
const silent = pino({ level: 'silent' });

describe('reconciliation: recovering events Stripe generated and hooklane never accepted', () => {
  let redis: TestRedis;
  let emulator: StripeEmulator;
  let app: TestApp;
  let reconciler: Reconciler;

  beforeAll(async () => {
    redis = await startRedis({ appendOnly: false });
  });
  beforeEach(async () => {
    emulator = await startStripeEmulator({ secretKey: STRIPE_KEY });
    app = await startTestApp(redis.url, { STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET, STRIPE_SECRET_KEY: STRIPE_KEY, STRIPE_API_BASE: emulator.url, ADMIN_TOKEN });
    const { redis: connection, config } = app.deps;
    const budget = new StripeApiBudget(connection, { perSecond: 10, keyPrefix: config.QUEUE_PREFIX });
    const fetcher = new StripeFetcher(createStripeClient(config, { maxNetworkRetries: 0 }), budget, connection, config.QUEUE_PREFIX);
    reconciler = new Reconciler({ listEvents: (p) => fetcher.listEvents(p), intake: intakeLogFor(connection, config), redis: connection, keyPrefix: config.QUEUE_PREFIX, logger: silent });
  });
  afterEach(async () => {
    await app.deps.queues[QUEUE_NAMES.stripeEvents].obliterate({ force: true });
    await app.close();
    await emulator.stop();
  });
  afterAll(async () => {
    await redis.destroy();
  });

  const now = Math.floor(Date.now() / 1000);

  test('feeds every event hooklane does not know through the dedup intake, marked reconciled, and none twice', async () => {
    const delivered = [1, 2, 3].map((i) => emulator.events.add(buildStripeEvent('customer.created', { created: now - i })));
    const missed = [4, 5].map((i) => emulator.events.add(buildStripeEvent('payment_intent.succeeded', { created: now - i }), { delivered: false }));
    // Older than the window the watermark opens, but Stripe says it failed to deliver them.
    const oldUndelivered = emulator.events.add(buildStripeEvent('charge.succeeded', { created: now - 10 * 86_400 }), { delivered: false });
    for (const event of delivered) await deliver(app.url, JSON.stringify(event));

    const first = await reconciler.run({ nowMs: now * 1000 });
    const second = await reconciler.run({ nowMs: now * 1000 });
    await app.moveIntake();

    expect(first).toMatchObject({ listed: 8, recovered: 3, errors: 0, error: null });
    expect(second).toMatchObject({ recovered: 0, errors: 0 });
    const index = eventIndexFor(app.deps.redis, app.deps.config);
    for (const event of [...missed, oldUndelivered]) expect(await index.get(event.id)).toMatchObject({ source: 'reconciled', type: event.type });
    for (const event of delivered) expect(await index.get(event.id)).toMatchObject({ source: 'webhook' });
    const jobs = await app.deps.queues[QUEUE_NAMES.stripeEvents].getJobs(['waiting']);
    expect(jobs).toHaveLength(6);
    expect(await app.deps.redis.get(reconcileKeys(app.deps.config.QUEUE_PREFIX).watermark)).toBe(String(now - 1));
  });

  test('npm run webhook -- <type> --undelivered records an event the web never saw; reconciliation finds it', async () => {
    const cli = path.resolve(__dirname, '../../src/dev/send-webhook.ts');
    const { stdout } = await promisify(execFile)('npx', ['tsx', cli, 'invoice.paid', '--undelivered', '--url', app.url, '--secret', WEBHOOK_SECRET], {
      env: { ...process.env, STRIPE_API_BASE: emulator.url, STRIPE_SECRET_KEY: STRIPE_KEY },
      timeout: 60_000,
    });
    const id = /(evt_\w+)/.exec(stdout)?.[1];

    const run = await reconciler.run();
    await app.moveIntake();

    expect(stdout).toContain('recorded in the Stripe emulator as undelivered');
    expect(run.recovered).toBe(1);
    expect(await eventIndexFor(app.deps.redis, app.deps.config).get(id!)).toMatchObject({ source: 'reconciled', type: 'invoice.paid' });
  });

  test('pages through more events than one page holds', async () => {
    for (let i = 0; i < 230; i += 1) emulator.events.add(buildStripeEvent('customer.created', { created: now - i }), { delivered: false });

    const run = await reconciler.run({ since: now - 1000 });

    expect(run).toMatchObject({ recovered: 230, listed: 460 });
  });

  test('when listing fails, the watermark stays and the run is recorded with its error', async () => {
    emulator.events.add(buildStripeEvent('customer.created', { created: now - 1 }));
    await reconciler.run({ nowMs: now * 1000 });
    const watermark = await app.deps.redis.get(reconcileKeys(app.deps.config.QUEUE_PREFIX).watermark);
    emulator.events.add(buildStripeEvent('customer.created', { created: now + 5 }));
    await emulator.stop();

    const failed = await reconciler.run({ nowMs: (now + 10) * 1000 }).catch((err: { run?: unknown }) => err.run);

    expect(failed).toMatchObject({ errors: 1, error: expect.any(String) });
    expect(await app.deps.redis.get(reconcileKeys(app.deps.config.QUEUE_PREFIX).watermark)).toBe(watermark);
    emulator = await startStripeEmulator({ secretKey: STRIPE_KEY });
  });

  test('two workers starting reconciliation upsert one job scheduler; POST /api/admin/reconcile runs one on demand and GET shows it', async () => {
    const config = loadConfig({ NODE_ENV: 'test', REDIS_URL: redis.url, QUEUE_PREFIX: app.deps.config.QUEUE_PREFIX, STRIPE_SECRET_KEY: STRIPE_KEY, STRIPE_API_BASE: emulator.url, RECONCILE_INTERVAL_MINUTES: '15' });
    const connections = [new Redis(redis.url, { maxRetriesPerRequest: null }), new Redis(redis.url, { maxRetriesPerRequest: null })];
    const workers = await Promise.all(connections.map((c) => startReconciliation(config, c, silent)));
    const missed = emulator.events.add(buildStripeEvent('customer.created'), { delivered: false });
    const queue = new Queue(RECONCILE_QUEUE, { connection: app.deps.redis, prefix: config.QUEUE_PREFIX });
    try {
      const schedulers = await queue.getJobSchedulers();
      const headers = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };
      const posted = await fetch(`${app.url}/api/admin/reconcile`, { method: 'POST', headers, body: JSON.stringify({ since: new Date((now - 60) * 1000).toISOString() }) });
      const { jobId } = (await posted.json()) as { jobId: string };
      const deadline = Date.now() + 30_000;
      let state = '';
      while (Date.now() < deadline && state !== 'completed' && state !== 'failed') state = (await (await queue.getJob(jobId))?.getState()) ?? '';
      const shown = (await (await fetch(`${app.url}/api/admin/reconcile`, { headers })).json()) as Record<string, unknown>;
      const refused = await fetch(`${app.url}/api/admin/reconcile`, { method: 'POST', headers, body: JSON.stringify({ since: 'yesterday' }) });

      expect(schedulers).toHaveLength(1);
      expect(posted.status).toBe(202);
      expect(state).toBe('completed');
      expect(shown).toMatchObject({ intervalMinutes: 15, lastRun: { trigger: 'on-demand', since: now - 60, errors: 0 }, nextRunAt: expect.any(String) });
      expect(await eventIndexFor(app.deps.redis, app.deps.config).get(missed.id)).toBeUndefined();
      // The scheduler's first run (at once) or the on-demand one recovered it: either way, once.
      expect(await app.moveIntake()).toBe(1);
      expect(refused.status).toBe(400);
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
      await queue.obliterate({ force: true });
      await queue.close();
      connections.forEach((c) => c.disconnect());
    }
  });
});
