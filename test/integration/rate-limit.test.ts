import { randomUUID } from 'node:crypto';
import express from 'express';
import { Redis } from 'ioredis';
import { Writable } from 'node:stream';
import pino from 'pino';
import { redisRateLimit, type RateLimitOptions } from '../../src/web/rate-limit';
import { notFoundHandler, problemHandler } from '../../src/web/problem';
import { startTestApp, type TestApp } from '../support/app';
import { fillToMaxmemory, startRedis, type TestRedis } from '../support/redis';

/** Log lines written by the app, parsed. */
function capturedLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

/**
 * An app with one route limited by `redisRateLimit`, per `x-client` header. Redis gets 200 ms to answer (the
 * paused-Redis test needs its calls to give up quickly); `env` overrides it where a slow answer must not count.
 */
function startLimitedApp(redisUrl: string, prefix: string, options: Partial<RateLimitOptions> = {}, logger = capturedLogger(), env: Record<string, string> = {}) {
  return startTestApp(
    redisUrl,
    { QUEUE_PREFIX: prefix, ENQUEUE_TIMEOUT_MS: '200', ...env },
    {
      logger: logger.logger,
      listener: (deps) => {
        const app = express();
        app.get(
          '/limited',
          redisRateLimit(deps, {
            name: 'test',
            limit: 3,
            windowMs: 60_000,
            key: (req) => req.get('x-client'),
            detail: 'Slow down.',
            ...options,
          }),
          (_req, res) => {
            res.json({ ok: true });
          },
        );
        app.use(notFoundHandler);
        app.use(problemHandler(deps.logger));
        return app;
      },
    },
  );
}

const call = (app: TestApp, client?: string) => fetch(`${app.url}/limited`, { headers: client ? { 'x-client': client } : {} });

async function statuses(calls: Array<() => Promise<Response>>): Promise<number[]> {
  const result: number[] = [];
  for (const c of calls) result.push((await c()).status);
  return result;
}

describe('redisRateLimit', () => {
  let redis: TestRedis;
  const apps: TestApp[] = [];
  const start = async (...args: Parameters<typeof startLimitedApp>) => {
    const app = await startLimitedApp(...args);
    apps.push(app);
    return app;
  };

  beforeAll(async () => {
    redis = await startRedis({ appendOnly: false });
  });
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((a) => a.close()));
  });
  afterAll(async () => {
    await redis.destroy();
  });

  it('holds the limit across two app instances on one Redis, and another client is unaffected', async () => {
    const prefix = `test-${randomUUID()}`;
    const [a, b] = [await start(redis.url, prefix), await start(redis.url, prefix)];
    expect(await statuses([() => call(a, 'x'), () => call(b, 'x'), () => call(a, 'x'), () => call(b, 'x')])).toEqual([200, 200, 200, 429]);
    expect((await call(b, 'y')).status).toBe(200);

    const limited = await call(a, 'x');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('content-type')).toContain('application/problem+json');
    expect(limited.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
    expect(limited.headers.get('ratelimit-policy')).toBe('"test"; q=3; w=60');
    expect(limited.headers.get('ratelimit')).toMatch(/^"test"; r=0; t=\d+$/);
    expect(await limited.json()).toMatchObject({ status: 429, code: 'RATE_LIMITED', detail: 'Slow down.' });
  });

  it('counts under ${QUEUE_PREFIX}:rate-limit:${name}: with an expiry of one window', async () => {
    const prefix = `test-${randomUUID()}`;
    const app = await start(redis.url, prefix);
    await call(app, 'who');
    const direct = new Redis(redis.url);
    try {
      expect(await direct.get(`${prefix}:rate-limit:test:who`)).toBe('1');
      const ttl = await direct.pttl(`${prefix}:rate-limit:test:who`);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(60_000);
    } finally {
      direct.disconnect();
    }
  });

  it('lets a request the key function does not name through unlimited', async () => {
    const app = await start(redis.url, `test-${randomUUID()}`);
    expect(await statuses(Array.from({ length: 5 }, () => () => call(app)))).toEqual([200, 200, 200, 200, 200]);
  });

  it('when Redis is full (OOM under noeviction), limits in this process instead of refusing, and logs it once per window', async () => {
    const own = await startRedis({ appendOnly: false });
    const log = capturedLogger();
    try {
      // 5 s to answer: on a loaded machine Redis can take longer than 200 ms, and the reason logged must be the OOM.
      const app = await start(own.url, `test-${randomUUID()}`, {}, log, { ENQUEUE_TIMEOUT_MS: '5000' });
      await fillToMaxmemory(own.url);
      expect(await statuses(Array.from({ length: 5 }, () => () => call(app, 'x')))).toEqual([200, 200, 200, 429, 429]);
      expect((await call(app, 'y')).status).toBe(200);
      const fallbacks = log.lines.filter((l) => String(l.msg).startsWith('rate limiter cannot use Redis'));
      expect(fallbacks).toHaveLength(1);
      expect(fallbacks[0]).toMatchObject({ level: 40, limiter: 'test' });
      expect(String(fallbacks[0]!.err)).toMatch(/OOM/);
    } finally {
      await own.destroy();
    }
  });

  it('when Redis does not answer in time, limits in this process instead of hanging or refusing', async () => {
    const own = await startRedis({ appendOnly: false });
    try {
      const app = await start(own.url, `test-${randomUUID()}`);
      const pauser = new Redis(own.url);
      await pauser.client('PAUSE', 5000, 'ALL');
      try {
        expect(await statuses(Array.from({ length: 4 }, () => () => call(app, 'x')))).toEqual([200, 200, 200, 429]);
      } finally {
        await pauser.client('UNPAUSE');
        pauser.disconnect();
      }
    } finally {
      await own.destroy();
    }
  });

  it('when Redis is full and now and then accepts a write, logs the fallback once per window, not once per flip', async () => {
    const own = await startRedis({ appendOnly: false });
    const log = capturedLogger();
    try {
      const app = await start(own.url, `test-${randomUUID()}`, { limit: 100 }, log);
      for (let flip = 0; flip < 3; flip += 1) {
        const full = await fillToMaxmemory(own.url);
        expect((await call(app, 'x')).status).toBe(200);
        await full.free();
        expect((await call(app, 'x')).status).toBe(200);
      }
      const said = log.lines.map((l) => String(l.msg)).filter((m) => m.startsWith('rate limiter'));
      expect(said).toEqual(['rate limiter cannot use Redis; counting in this process (logged once per window)']);
    } finally {
      await own.destroy();
    }
  });

  it('when Redis comes back, counts in Redis again', async () => {
    const own = await startRedis({ appendOnly: false });
    try {
      const prefix = `test-${randomUUID()}`;
      const app = await start(own.url, prefix);
      await own.stop();
      expect((await call(app, 'x')).status).toBe(200);
      await own.start();
      await new Promise<void>((resolve) => (app.deps.redis.status === 'ready' ? resolve() : app.deps.redis.once('ready', resolve)));
      expect((await call(app, 'x')).status).toBe(200);
      const direct = new Redis(own.url);
      try {
        expect(await direct.get(`${prefix}:rate-limit:test:x`)).toBe('1');
      } finally {
        direct.disconnect();
      }
    } finally {
      await own.destroy();
    }
  });
});
