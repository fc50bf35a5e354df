import { randomUUID } from 'node:crypto';
import express from 'express';
import { adminAuth, adminTokenId, logAdminAction } from '../../src/web/admin-auth';
import { notFoundHandler, problemHandler } from '../../src/web/problem';
import { requestContext } from '../../src/web/request-context';
import { startTestApp, type TestApp } from '../support/app';
import { startRedis, type TestRedis } from '../support/redis';

const TOKEN = 'admin-token-for-tests-0123456789';

interface GuardedApp extends TestApp {
  /** The one guarded route. */
  url: string;
}

/** A minimal app with one admin route, built from the real web deps against a real Redis. */
async function startGuardedApp(redisUrl: string, env: Record<string, string>): Promise<GuardedApp> {
  const app = await startTestApp(redisUrl, env, {
    listener: (deps) => {
      const guarded = express();
      guarded.use(requestContext(deps.logger));
      guarded.get('/admin/ping', ...adminAuth(deps), (req, res) => {
        logAdminAction(req, 'ping');
        res.json({ admin: res.locals.admin });
      });
      guarded.use(notFoundHandler);
      guarded.use(problemHandler(deps.logger));
      return guarded;
    },
  });
  return { ...app, url: `${app.url}/admin/ping` };
}

describe('admin auth', () => {
  let redis: TestRedis;
  const apps: GuardedApp[] = [];
  const start = async (env: Record<string, string> = {}) => {
    const app = await startGuardedApp(redis.url, { QUEUE_PREFIX: `test-${randomUUID()}`, ADMIN_TOKEN: TOKEN, ...env });
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

  it('when no Authorization header is sent, answers 401 problem+json with WWW-Authenticate: Bearer', async () => {
    const { url } = await start();
    const res = await fetch(url);
    expect(res.status).toBe(401);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(await res.json()).toMatchObject({ code: 'UNAUTHORIZED', status: 401 });
  });

  it('when the token is wrong (same length or not), answers 401', async () => {
    const { url } = await start();
    for (const token of [TOKEN.replace(/.$/, 'x'), 'short', `${TOKEN}-longer`]) {
      const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(401);
      expect(((await res.json()) as { code: string }).code).toBe('UNAUTHORIZED');
    }
  });

  it('when the scheme is not Bearer, answers 401', async () => {
    const { url } = await start();
    const res = await fetch(url, { headers: { authorization: `Basic ${Buffer.from(`a:${TOKEN}`).toString('base64')}` } });
    expect(res.status).toBe(401);
  });

  it('when the token is right, passes and sets res.locals.admin to the token id only', async () => {
    const { url } = await start();
    const res = await fetch(url, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { admin: { tokenId: string } };
    expect(body.admin).toEqual({ tokenId: adminTokenId(TOKEN) });
    expect(body.admin.tokenId).toMatch(/^[0-9a-f]{8}$/);
    expect(res.headers.get('ratelimit')).toMatch(/^"admin"; r=\d+; t=\d+$/);
  });

  it('when ADMIN_TOKEN is unset, answers 503 ADMIN_NOT_CONFIGURED saying to set it (not a wrong-token 401), whatever token is sent', async () => {
    const { url } = await start({ ADMIN_TOKEN: '' });
    const res = await fetch(url, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(503);
    const problem = (await res.json()) as { code: string; detail: string };
    expect(problem.code).toBe('ADMIN_NOT_CONFIGURED');
    expect(problem.detail).toContain('set ADMIN_TOKEN');
  });

  it('when one client goes over the limit, answers 429 RATE_LIMITED with RateLimit and Retry-After headers', async () => {
    const { url } = await start({ ADMIN_RATE_LIMIT_PER_MINUTE: '3' });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i += 1) {
      statuses.push((await fetch(url, { headers: { authorization: `Bearer ${TOKEN}` } })).status);
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    const limited = await fetch(url, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('content-type')).toContain('application/problem+json');
    expect(limited.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(limited.headers.get('ratelimit')).toMatch(/r=0/);
    expect(((await limited.json()) as { code: string }).code).toBe('RATE_LIMITED');
  });

  it('counts wrong-token attempts too, so guessing is rate limited', async () => {
    const { url } = await start({ ADMIN_AUTH_FAILURES_PER_MINUTE: '2' });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i += 1) statuses.push((await fetch(url, { headers: { authorization: 'Bearer nope' } })).status);
    expect(statuses).toEqual([401, 401, 429]);
  });

  it('when a guesser reached the failure limit, refuses even the right token from that address, so the answers tell it nothing', async () => {
    const { url } = await start({ ADMIN_AUTH_FAILURES_PER_MINUTE: '2' });
    for (let i = 0; i < 2; i += 1) expect((await fetch(url, { headers: { authorization: 'Bearer nope' } })).status).toBe(401);
    const right = await fetch(url, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(right.status).toBe(429);
    expect(right.headers.get('retry-after')).toMatch(/^\d+$/);
  });

  it('counts wrong tokens across two app instances sharing one Redis', async () => {
    const env = { QUEUE_PREFIX: `test-${randomUUID()}`, ADMIN_AUTH_FAILURES_PER_MINUTE: '2' };
    const [a, b] = [await start(env), await start(env)];
    const statuses: number[] = [];
    for (const url of [a.url, b.url, a.url]) statuses.push((await fetch(url, { headers: { authorization: 'Bearer nope' } })).status);
    expect(statuses).toEqual([401, 401, 429]);
  });

  it('holds the limit across two app instances sharing one Redis', async () => {
    const prefix = `test-${randomUUID()}`;
    const env = { QUEUE_PREFIX: prefix, ADMIN_RATE_LIMIT_PER_MINUTE: '4' };
    const [a, b] = [await start(env), await start(env)];
    const auth = { authorization: `Bearer ${TOKEN}` };
    const statuses: number[] = [];
    for (const url of [a.url, b.url, a.url, b.url, a.url, b.url]) statuses.push((await fetch(url, { headers: auth })).status);
    expect(statuses).toEqual([200, 200, 200, 200, 429, 429]);
  });

  it('when Redis is unreachable, keeps the limits in this process instead of refusing or letting everything through', async () => {
    const own = await startRedis({ appendOnly: false });
    const app = await startGuardedApp(own.url, {
      QUEUE_PREFIX: `test-${randomUUID()}`,
      ADMIN_TOKEN: TOKEN,
      ADMIN_RATE_LIMIT_PER_MINUTE: '2',
      ADMIN_AUTH_FAILURES_PER_MINUTE: '1',
    });
    apps.push(app);
    try {
      await own.stop();
      const statuses: number[] = [];
      for (let i = 0; i < 3; i += 1) statuses.push((await fetch(app.url, { headers: { authorization: `Bearer ${TOKEN}` } })).status);
      expect(statuses).toEqual([200, 200, 429]);
      const guesses: number[] = [];
      for (let i = 0; i < 2; i += 1) guesses.push((await fetch(app.url, { headers: { authorization: 'Bearer nope' } })).status);
      expect(guesses).toEqual([401, 429]);
    } finally {
      await own.destroy();
    }
  });
});
