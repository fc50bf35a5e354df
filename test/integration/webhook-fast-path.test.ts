import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { signStripePayload } from '../../src/dev/stripe-event-builder';
import { QUEUE_NAMES } from '../../src/queues';
import { waitForRedis } from '../../src/redis';
import { createApp } from '../../src/web/app';
import { withWebhookFastPath } from '../../src/web/fast-path';
import { startTestApp, type TestApp } from '../support/app';
import { startRedis, type TestRedis } from '../support/redis';
import { fixtureEvent, WEBHOOK_SECRET } from './webhooks-support';

interface Answer {
  status: number;
  contentType: string | null;
  requestId: string | null;
  retryAfter: string | null;
  body: Record<string, unknown>;
}

/** The server web/main.ts builds: the fast path in front of the Express app. */
function startServer(redisUrl: string): Promise<TestApp> {
  return startTestApp(
    redisUrl,
    { STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET, BODY_LIMIT: '64kb', ENQUEUE_TIMEOUT_MS: '300' },
    { listener: (deps) => withWebhookFastPath(deps, createApp(deps)) },
  );
}

// A query string makes a request skip the fast path, so the same server answers through Express's route.
const FAST = '/webhooks/stripe';
const EXPRESS = '/webhooks/stripe?via=express';

async function post(url: string, path: string, payload: string, headers: Record<string, string>): Promise<Answer> {
  const res = await fetch(`${url}${path}`, { method: 'POST', headers, body: payload });
  const text = await res.text();
  return {
    status: res.status,
    contentType: res.headers.get('content-type'),
    requestId: res.headers.get('x-request-id'),
    retryAfter: res.headers.get('retry-after'),
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
  };
}

const signed = (payload: string, timestamp?: number) => ({
  'content-type': 'application/json',
  'stripe-signature': signStripePayload(payload, WEBHOOK_SECRET, timestamp),
});

/** What must match between the two paths: everything but the request id and the instance (the URL). */
const comparable = ({ requestId: _id, body: { requestId: _rid, instance: _instance, ...body }, ...rest }: Answer) => ({ ...rest, body });

describe('webhook fast path (node:http in front of Express)', () => {
  let redis: TestRedis;
  let app: Awaited<ReturnType<typeof startServer>>;
  const queue = () => app.deps.queues[QUEUE_NAMES.stripeEvents];

  beforeAll(async () => {
    redis = await startRedis({ appendOnly: false });
  });
  beforeEach(async () => {
    app = await startServer(redis.url);
  });
  afterEach(async () => {
    await queue().obliterate({ force: true }).catch(() => undefined);
    await app.close();
  });
  afterAll(async () => {
    await redis.destroy();
  });

  it('when an event is new, answers 200 duplicate:false with a request id and queues it under its id', async () => {
    const { event, payload } = fixtureEvent('payment_intent.succeeded');
    const answer = await post(app.url, FAST, payload, { ...signed(payload), 'x-request-id': 'req-fast-1' });
    expect(answer).toEqual({
      status: 200,
      contentType: 'application/json; charset=utf-8',
      requestId: 'req-fast-1',
      retryAfter: null,
      body: { received: true, duplicate: false },
    });
    expect(await app.moveIntake()).toBe(1);
    expect((await queue().getJob(event.id))?.name).toBe('payment_intent.succeeded');
  });

  it.each([
    ['a valid new event', (p: string) => signed(p), 'fresh'],
    ['a redelivery', (p: string) => signed(p), 'delivered-before'],
    ['no signature', () => ({ 'content-type': 'application/json' }), 'fresh'],
    ['a wrong signature', () => ({ 'content-type': 'application/json', 'stripe-signature': `t=${Math.floor(Date.now() / 1000)},v1=${'0'.repeat(64)}` }), 'fresh'],
    ['a malformed signature header', () => ({ 'content-type': 'application/json', 'stripe-signature': 'garbage' }), 'fresh'],
    ['an expired signature', (p: string) => signed(p, Math.floor(Date.now() / 1000) - 3600), 'fresh'],
    ['a signed body that is not JSON', () => signed('{not json'), 'not-json'],
    ['a body over BODY_LIMIT', (p: string) => signed(p), 'huge'],
  ] as const)('answers %s exactly as the Express route does', async (_name, headersFor, kind) => {
    const bodies = [0, 1].map(() => {
      if (kind === 'not-json') return '{not json';
      if (kind === 'huge') return JSON.stringify({ id: 'evt_huge', pad: 'x'.repeat(70 * 1024) });
      return fixtureEvent('customer.created').payload;
    });
    if (kind === 'delivered-before') {
      for (const body of bodies) expect((await post(app.url, FAST, body, signed(body))).status).toBe(200);
    }
    const viaFast = await post(app.url, FAST, bodies[0]!, headersFor(bodies[0]!));
    const viaExpress = await post(app.url, EXPRESS, bodies[1]!, headersFor(bodies[1]!));
    expect(viaFast.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(comparable(viaFast)).toEqual(comparable(viaExpress));
    if (viaFast.status >= 400) expect(viaFast.body).toMatchObject({ instance: FAST, requestId: viaFast.requestId });
  });

  it('when the body is chunked and crosses the limit, answers 413 and enqueues nothing', async () => {
    const { port } = app.server.address() as AddressInfo;
    const status = await new Promise<number>((resolve, reject) => {
      const req = request({ port, host: '127.0.0.1', method: 'POST', path: FAST, headers: { 'content-type': 'application/json', 'stripe-signature': 't=1,v1=00' } });
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      // No content-length: the reader has to count. Writes stop once the server has answered.
      const chunk = Buffer.alloc(16 * 1024, 'x');
      let sent = 0;
      const pump = () => {
        while (sent < 10 && req.write(chunk)) sent += 1;
        if (sent < 10) req.once('drain', pump);
        else req.end();
      };
      pump();
    });
    expect(status).toBe(413);
    expect(await app.moveIntake()).toBe(0);
    expect(await queue().count()).toBe(0);
  });

  it('when the same event arrives 20 times at once, exactly one answer says duplicate:false and one job exists', async () => {
    const { event, payload } = fixtureEvent('customer.created');
    const answers = await Promise.all(Array.from({ length: 20 }, () => post(app.url, FAST, payload, signed(payload))));
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
    expect(answers.filter((a) => a.body.duplicate === false)).toHaveLength(1);
    expect(await app.moveIntake()).toBe(1);
    expect(await queue().count()).toBe(1);
    expect((await queue().getJob(event.id))?.id).toBe(event.id);
  });

  it('when Redis is away, answers 503 REDIS_UNAVAILABLE with Retry-After, like the Express route', async () => {
    await redis.stop();
    try {
      const bodies = [fixtureEvent('customer.created').payload, fixtureEvent('customer.created').payload];
      const viaFast = await post(app.url, FAST, bodies[0]!, signed(bodies[0]!));
      const viaExpress = await post(app.url, EXPRESS, bodies[1]!, signed(bodies[1]!));
      expect(viaFast).toMatchObject({ status: 503, retryAfter: '5', body: { code: 'REDIS_UNAVAILABLE' } });
      expect(comparable(viaFast)).toEqual(comparable(viaExpress));
    } finally {
      await redis.start();
      await waitForRedis(app.deps.redis, 10_000);
    }
  });

  it('while shutting down, still answers but asks the client to close the connection', async () => {
    app.deps.lifecycle.beginShutdown();
    const { payload } = fixtureEvent('customer.created');
    const res = await fetch(`${app.url}${FAST}`, { method: 'POST', headers: signed(payload), body: payload });
    await res.arrayBuffer();
    expect(res.status).toBe(200);
    expect(res.headers.get('connection')).toBe('close');
  });

  it('leaves every other request to Express', async () => {
    const res = await fetch(`${app.url}/webhooks/stripe`, { method: 'GET' });
    expect(res.status).toBe(405); // Express knows the path, not the method
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  });
});
