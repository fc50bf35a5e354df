import { Redis } from 'ioredis';
import { signStripePayload } from '../../src/dev/stripe-event-builder';
import { createApp } from '../../src/web/app';
import { withWebhookFastPath } from '../../src/web/fast-path';
import { intakeLogFor } from '../../src/events/intake-log';
import { startTestApp, type TestApp } from '../support/app';
import { startRedis, type TestRedis } from '../support/redis';
import { deliver, fixtureEvent, WEBHOOK_SECRET } from './webhooks-support';

/**
 * Under noeviction, a web that appends until Redis is at its maxmemory takes the last bytes the workers
 * need to move, process and finish jobs (every one of those steps writes): the backlog then never drains
 * while deliveries keep coming. Intake stops at a high-water mark instead and leaves the rest to them.
 */
describe('webhook intake near Redis maxmemory', () => {
  let redis: TestRedis;
  let app: TestApp;
  let admin: Redis;

  /** Sets maxmemory so that Redis is now at `ratio` of it (not out of memory: writes still succeed). */
  async function fillTo(ratio: number): Promise<void> {
    await admin.config('SET', 'maxmemory', '0');
    const used = Number(/used_memory:(\d+)/.exec(await admin.info('memory'))?.[1]);
    await admin.config('SET', 'maxmemory', String(Math.ceil(used / ratio)));
  }

  beforeAll(async () => {
    redis = await startRedis({ appendOnly: false });
    admin = new Redis(redis.url);
  });
  beforeEach(async () => {
    await admin.config('SET', 'maxmemory', '0');
    app = await startTestApp(redis.url, { STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET, INTAKE_MEMORY_HIGH_WATER: '0.9' }, {
      listener: (deps) => withWebhookFastPath(deps, createApp(deps)),
    });
  });
  afterEach(async () => {
    await app.close();
  });
  afterAll(async () => {
    admin.disconnect();
    await redis.destroy();
  });

  const backlog = () => intakeLogFor(app.deps.redis, app.deps.config).backlog();

  it.each([
    ['the fast path', '/webhooks/stripe'],
    ['the Express route', '/webhooks/stripe?via=express'],
  ])('over the high-water mark, %s answers 503 REDIS_UNAVAILABLE with Retry-After and stores nothing, though Redis would still accept it', async (_name, path) => {
    await fillTo(0.95);
    await app.deps.memoryGuard.refresh();
    const { payload } = fixtureEvent('customer.created');
    const res = await fetch(`${app.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'stripe-signature': signStripePayload(payload, WEBHOOK_SECRET) },
      body: payload,
    });
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ code: 'REDIS_UNAVAILABLE' });
    expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
    expect((await backlog()).waiting).toBe(0);
  });

  it('under the high-water mark, and again once memory is freed, deliveries are stored', async () => {
    await fillTo(0.95);
    await app.deps.memoryGuard.refresh();
    expect((await deliver(app.url, fixtureEvent('customer.created').payload)).status).toBe(503);
    await fillTo(0.5);
    await app.deps.memoryGuard.refresh();
    expect((await deliver(app.url, fixtureEvent('customer.created').payload)).status).toBe(200);
    expect((await backlog()).waiting).toBe(1);
  });
});
