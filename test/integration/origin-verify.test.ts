import { Writable } from 'node:stream';
import { loadConfig } from '../../src/config';
import { signStripePayload } from '../../src/dev/stripe-event-builder';
import { createLogger } from '../../src/logger';
import { QUEUE_NAMES } from '../../src/queues';
import { createWebListener } from '../../src/web/listener';
import { startTestApp, type TestApp } from '../support/app';
import { startRedis, type TestRedis } from '../support/redis';
import { deliver, fixtureEvent, WEBHOOK_SECRET } from './webhooks-support';

type Line = Record<string, unknown> & { msg: string };

const CURRENT = 'c'.repeat(20) + 'CurrentOriginSecret0123456789abcdefABCDEFGH';
const NEXT = 'n'.repeat(20) + 'NextOriginSecret0123456789abcdefABCDEFGHIJK';

/** The server web/main.ts builds (origin check, then the webhook fast path, then Express), logging into `lines`. */
function startServer(redisUrl: string, lines: Line[], env: Record<string, string>): Promise<TestApp> {
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const text of chunk.toString().split('\n')) if (text) lines.push(JSON.parse(text) as Line);
      done();
    },
  });
  return startTestApp(
    redisUrl,
    { STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET, ...env },
    { listener: createWebListener, logger: createLogger({ level: 'info', name: 'web' }, sink) },
  );
}

async function send(url: string, path: string, headers: Record<string, string> = {}, body?: string) {
  const res = await fetch(`${url}${path}`, { method: body === undefined ? 'GET' : 'POST', headers, ...(body !== undefined && { body }) });
  const text = await res.text();
  return { status: res.status, contentType: res.headers.get('content-type'), body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

describe('origin verification (only requests through our CloudFront distribution reach the app)', () => {
  let redis: TestRedis;
  let app: TestApp;
  let lines: Line[];
  const queue = () => app.deps.queues[QUEUE_NAMES.stripeEvents];

  beforeAll(async () => {
    redis = await startRedis({ appendOnly: false });
  });
  afterEach(async () => {
    await queue().obliterate({ force: true }).catch(() => undefined);
    await app.close();
  });
  afterAll(async () => {
    await redis.destroy();
  });

  describe('with ORIGIN_VERIFY_SECRET set', () => {
    beforeEach(async () => {
      lines = [];
      app = await startServer(redis.url, lines, { ORIGIN_VERIFY_SECRET: CURRENT });
    });

    it('when a signed webhook skips CloudFront (no X-Origin-Verify), answers 403 ORIGIN_NOT_VERIFIED and stores nothing', async () => {
      const { payload } = fixtureEvent('payment_intent.succeeded');
      const answer = await deliver(app.url, payload);
      expect(answer.status).toBe(403);
      expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(answer.body).toMatchObject({ status: 403, code: 'ORIGIN_NOT_VERIFIED', instance: '/webhooks/stripe' });
      expect(await app.moveIntake()).toBe(0);
      expect(await queue().count()).toBe(0);
    });

    it('when another distribution sends a wrong value of the same length, answers 403 on the API too', async () => {
      const forged = `x${CURRENT.slice(1)}`;
      const answer = await send(app.url, '/api/jobs/some-job', { 'x-origin-verify': forged });
      expect(answer).toMatchObject({ status: 403, body: { code: 'ORIGIN_NOT_VERIFIED', instance: '/api/jobs/some-job' } });
      expect(JSON.stringify(answer.body)).not.toContain(CURRENT.slice(0, 12));
    });

    it('logs each refusal with the client IP the load balancer saw, and never the presented value', async () => {
      const answer = await send(app.url, '/api/jobs/x', { 'x-origin-verify': 'guess-guess-guess', 'x-forwarded-for': '198.51.100.7, 203.0.113.9', 'x-request-id': 'req-origin-1' });
      expect(answer.status).toBe(403);
      const refusal = lines.filter((l) => l.requestId === 'req-origin-1');
      expect(refusal).toEqual([
        expect.objectContaining({ msg: 'request not through our CloudFront distribution', level: 'warn', code: 'ORIGIN_NOT_VERIFIED', clientIp: '203.0.113.9', remoteAddress: '127.0.0.1', url: '/api/jobs/x' }),
      ]);
      expect(JSON.stringify(lines)).not.toContain('guess-guess-guess');
    });

    it('accepts a delivery that carries the value, on the fast path and through Express', async () => {
      const { payload } = fixtureEvent('customer.created');
      const viaCloudFront = await fetch(`${app.url}/webhooks/stripe`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-origin-verify': CURRENT, 'stripe-signature': signStripePayload(payload, WEBHOOK_SECRET) },
        body: payload,
      });
      expect(viaCloudFront.status).toBe(200);
      expect(await app.moveIntake()).toBe(1);
      expect((await send(app.url, '/api/jobs/nope', { 'x-origin-verify': CURRENT })).body.code).toBe('JOB_NOT_FOUND');
    });

    it.each(['/healthz', '/readyz'])('answers the load balancer health check %s without the header', async (path) => {
      expect((await send(app.url, path)).status).toBe(200);
    });
  });

  it('while rotating, accepts both configured values and refuses any other', async () => {
    lines = [];
    app = await startServer(redis.url, lines, { ORIGIN_VERIFY_SECRET: `${NEXT},${CURRENT}` });
    for (const value of [CURRENT, NEXT]) {
      expect((await send(app.url, '/api/jobs/nope', { 'x-origin-verify': value })).status).toBe(404);
    }
    expect((await send(app.url, '/api/jobs/nope', { 'x-origin-verify': `${NEXT},${CURRENT}` })).status).toBe(403);
  });

  it('without ORIGIN_VERIFY_SECRET (local runs), checks nothing', async () => {
    lines = [];
    app = await startServer(redis.url, lines, {});
    expect((await send(app.url, '/api/jobs/nope')).status).toBe(404);
  });
});

describe('ORIGIN_VERIFY_SECRET config', () => {
  const base = { REDIS_URL: 'redis://127.0.0.1:6379' };

  it('takes one value, or two comma-separated while rotating', () => {
    expect(loadConfig({ ...base, ORIGIN_VERIFY_SECRET: CURRENT }).ORIGIN_VERIFY_SECRET).toEqual([CURRENT]);
    expect(loadConfig({ ...base, ORIGIN_VERIFY_SECRET: ` ${NEXT} , ${CURRENT}` }).ORIGIN_VERIFY_SECRET).toEqual([NEXT, CURRENT]);
  });

  it('refuses a short value and more than two values, naming the key', () => {
    expect(() => loadConfig({ ...base, ORIGIN_VERIFY_SECRET: 'short' })).toThrow(/ORIGIN_VERIFY_SECRET/);
    expect(() => loadConfig({ ...base, ORIGIN_VERIFY_SECRET: `${CURRENT},${NEXT},${CURRENT}x` })).toThrow(/ORIGIN_VERIFY_SECRET/);
  });
});
