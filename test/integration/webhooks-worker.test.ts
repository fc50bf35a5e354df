import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { producibleEventTypes } from '../../src/dev/stripe-event-builder';
import { startStripeEmulator, type StripeEmulator } from '../../src/dev/stripe-emulator';
import { eventIndexFor, type EventIndex } from '../../src/events/event-index';
import type { EventRecord } from '../../src/events/event-record';
import { QUEUE_NAMES } from '../../src/queues';
import { waitForRedis } from '../../src/redis';
import { createSecretStore } from '../../src/stripe/stripe-app-services';
import { STRIPE_EVENT_HANDLERS } from '../../src/worker/handlers';
import { startTestApp, type TestApp } from '../support/app';
import { startWorker, type RunningProcess } from '../support/processes';
import { startRedis, type TestRedis } from '../support/redis';
import { deliver, fixtureEvent, WEBHOOK_SECRET } from './webhooks-support';

const STRIPE_KEY = 'sk_test_webhooksworker0001';
const ACCOUNT = 'acct_1WorkerTest';
const ADMIN_TOKEN = 'webhooks-worker-admin-token-01';

/** Polls the index (the observable outcome) until every id has left queued/processing. */
async function waitForOutcomes(index: EventIndex, ids: string[], timeoutMs = 60_000): Promise<Map<string, EventRecord>> {
  const deadline = Date.now() + timeoutMs;
  const done = new Map<string, EventRecord>();
  while (Date.now() < deadline) {
    for (const id of ids) {
      if (done.has(id)) continue;
      const record = await index.get(id);
      if (record && record.status !== 'queued' && record.status !== 'processing') done.set(id, record);
    }
    if (done.size === ids.length) return done;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${ids.length - done.size} event(s) not processed in time, e.g. ${ids.find((id) => !done.has(id))}`);
}

describe('Stripe events through a real worker process', () => {
  let redis: TestRedis;
  let emulator: StripeEmulator;
  let app: TestApp;
  let worker: RunningProcess;
  let index: EventIndex;
  const prefix = `test-${randomUUID()}`;

  beforeAll(async () => {
    redis = await startRedis({ appendOnly: false });
    emulator = await startStripeEmulator({ secretKey: STRIPE_KEY });
    const env = { QUEUE_PREFIX: prefix, STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET };
    app = await startTestApp(redis.url, { ...env, ADMIN_TOKEN });
    worker = await startWorker({
      ...env,
      REDIS_URL: redis.url,
      STRIPE_SECRET_KEY: STRIPE_KEY,
      STRIPE_API_BASE: emulator.url,
      WORKER_CONCURRENCY: '20',
      JOB_BACKOFF_DELAY_MS: '10',
    });
    index = eventIndexFor(app.deps.redis, app.deps.config);
  });
  afterAll(async () => {
    await worker?.kill();
    await app?.deps.queues[QUEUE_NAMES.stripeEvents].obliterate({ force: true }).catch(() => undefined);
    await app?.close();
    await emulator?.stop();
    await redis?.destroy();
  });

  it('accepts every event type the fixtures can build and processes each (handled types succeed, the rest are ignored)', async () => {
    const types = producibleEventTypes();
    expect(types.length).toBeGreaterThan(250);
    const ids: string[] = [];
    for (const type of types) {
      const { event, payload } = fixtureEvent(type, { account: ACCOUNT });
      const res = await deliver(app.url, payload);
      expect({ type, status: res.status, body: res.body }).toEqual({ type, status: 200, body: { received: true, duplicate: false } });
      ids.push(event.id);
    }
    const outcomes = await waitForOutcomes(index, ids);
    const handled = new Set(STRIPE_EVENT_HANDLERS.types());
    for (const record of outcomes.values()) {
      expect({ type: record.type, status: record.status, lastError: record.lastError }).toEqual({
        type: record.type,
        status: handled.has(record.type) ? 'succeeded' : 'ignored',
        lastError: null,
      });
    }
  });

  it("account.application.deauthorized deletes the account's tokens from the (emulated) Secret Store", async () => {
    const redisClient = new Redis(redis.url);
    await waitForRedis(redisClient, 20_000);
    try {
      const store = createSecretStore(
        { STRIPE_SECRET_KEY: STRIPE_KEY, STRIPE_API_BASE: emulator.url, STRIPE_API_TIMEOUT_MS: 5000, QUEUE_PREFIX: prefix },
        redisClient,
      )!;
      const users = [{ userId: 'usr_1', accountId: 'acct_1Leaving' }, { userId: 'usr_2', accountId: 'acct_1Leaving' }];
      for (const user of users) await store.storeTokens(user, { accessToken: `at-${user.userId}` });
      const staying = { userId: 'usr_3', accountId: 'acct_1Staying' };
      await store.storeTokens(staying, { accessToken: 'at-usr_3' });

      const { event, payload } = fixtureEvent('account.application.deauthorized', { account: 'acct_1Leaving' });
      expect((await deliver(app.url, payload)).status).toBe(200);
      const [record] = (await waitForOutcomes(index, [event.id])).values();
      expect(record?.status).toBe('succeeded');
      for (const user of users) expect(await store.findAccessToken(user)).toBeUndefined();
      expect(await store.findAccessToken(staying)).toBe('at-usr_3');
      const job = await app.deps.queues[QUEUE_NAMES.stripeEvents].getJob(event.id);
      expect(job?.returnvalue).toMatchObject({ result: { account: 'acct_1Leaving', usersWithTokensDeleted: 2, accountGone: false } });
    } finally {
      redisClient.disconnect();
    }
  });

  it('account.application.deauthorized for an account that uninstalled the app (Stripe answers 403 account_invalid) succeeds instead of failing', async () => {
    const redisClient = new Redis(redis.url);
    await waitForRedis(redisClient, 20_000);
    try {
      const store = createSecretStore(
        { STRIPE_SECRET_KEY: STRIPE_KEY, STRIPE_API_BASE: emulator.url, STRIPE_API_TIMEOUT_MS: 5000, QUEUE_PREFIX: prefix },
        redisClient,
      )!;
      await store.storeTokens({ userId: 'usr_1', accountId: 'acct_1Uninstalled' }, { accessToken: 'at-usr_1' });
      emulator.revokeAccess('acct_1Uninstalled');

      const { event, payload } = fixtureEvent('account.application.deauthorized', { account: 'acct_1Uninstalled' });
      expect((await deliver(app.url, payload)).status).toBe(200);
      const [record] = (await waitForOutcomes(index, [event.id])).values();

      expect(record?.status).toBe('succeeded');
      const job = await app.deps.queues[QUEUE_NAMES.stripeEvents].getJob(event.id);
      expect(job?.attemptsMade).toBe(1);
      expect(job?.returnvalue).toMatchObject({ result: { account: 'acct_1Uninstalled', usersWithTokensDeleted: 1, accountGone: true } });
    } finally {
      redisClient.disconnect();
    }
  });

  it('a replayed event is processed again under its replay job id', async () => {
    const { event, payload } = fixtureEvent('customer.created', { account: ACCOUNT });
    await deliver(app.url, payload);
    await waitForOutcomes(index, [event.id]);
    const queue = app.deps.queues[QUEUE_NAMES.stripeEvents];
    const res = await fetch(`${app.url}/api/events/${event.id}/replay`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(res.status).toBe(202);
    const [record] = (await waitForOutcomes(index, [event.id])).values();
    expect(record).toMatchObject({ status: 'succeeded', jobId: `${event.id}-replay-1`, replays: 1 });
    expect(await (await queue.getJob(`${event.id}-replay-1`))?.getState()).toBe('completed');
  });
});
