import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Express } from 'express';
import pino from 'pino';
import { loadConfig } from '../../src/config';
import { waitForRedis } from '../../src/redis';
import { createWebDeps, type WebDeps } from '../../src/web/deps';
import { adminAuth } from '../../src/web/admin-auth';
import { notFoundHandler, problemHandler } from '../../src/web/problem';
import { requestContext } from '../../src/web/request-context';
import { startTestApp, type TestApp } from '../support/app';
import { startRedis, type TestRedis } from '../support/redis';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';

const TOKEN = 'admin-token-for-fault-tests-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };

/** A minimal app with one admin route, built from the real web deps. */
function guardedApp(deps: WebDeps): Express {
  const guarded = express();
  guarded.use(requestContext(deps.logger));
  guarded.get('/admin/ping', ...adminAuth(deps), (_req, res) => {
    res.json({ ok: true });
  });
  guarded.use(notFoundHandler);
  guarded.use(problemHandler(deps.logger));
  return guarded;
}

function startGuardedApp(redisUrl: string, env: Record<string, string> = {}): Promise<TestApp> {
  return startTestApp(redisUrl, { QUEUE_PREFIX: `test-${randomUUID()}`, ADMIN_TOKEN: TOKEN, ...env }, { listener: guardedApp });
}

/** Resolves after `count` more reconnection attempts of `redis` (bounded by the test's timeout). */
function reconnectAttempts(redis: Redis, count: number): Promise<void> {
  return new Promise((resolve) => {
    let seen = 0;
    const onAttempt = () => {
      seen += 1;
      if (seen < count) return;
      redis.off('reconnecting', onAttempt);
      resolve();
    };
    redis.on('reconnecting', onAttempt);
  });
}

describe('admin auth when Redis fails', () => {
  let redis: TestRedis;
  let proxy: TcpProxy;
  let app: TestApp | undefined;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);

  beforeAll(async () => {
    redis = await startRedis({ appendOnly: false });
    process.on('unhandledRejection', onUnhandled);
  });
  beforeEach(async () => {
    proxy = await startTcpProxy(redis.port);
    unhandled.length = 0;
  });
  afterEach(async () => {
    await app?.close();
    app = undefined;
    await proxy.close();
  });
  afterAll(async () => {
    process.off('unhandledRejection', onUnhandled);
    await redis.destroy();
  });

  it('when a web built while Redis was unreachable gets a request before Redis is back, leaves no unhandled rejection (which would exit the web)', async () => {
    proxy.cut();
    const config = loadConfig({ NODE_ENV: 'test', REDIS_URL: `redis://127.0.0.1:${proxy.port}`, QUEUE_PREFIX: `test-${randomUUID()}`, ADMIN_TOKEN: TOKEN });
    const deps = createWebDeps(config, pino({ level: 'silent' }));
    const server = createServer(guardedApp(deps));
    try {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/admin/ping`;
      // The limiter's script cannot be loaded, and is loaded again (and fails again) on this request.
      const whileAway = await fetch(url, { headers: auth });
      await reconnectAttempts(deps.redis, 1);
      expect(unhandled).toEqual([]);
      expect(whileAway.status).toBe(200);

      proxy.heal();
      await waitForRedis(deps.redis, 10_000);
      expect((await fetch(url, { headers: auth })).status).toBe(200);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      deps.redis.disconnect();
    }
  });

  it('when Redis goes away in the middle of reloading the rate-limit script, leaves no unhandled rejection (which would exit the web)', async () => {
    app = await startGuardedApp(`redis://127.0.0.1:${proxy.port}`);
    const ping = () => fetch(`${app!.url}/admin/ping`, { headers: auth });
    expect((await ping()).status).toBe(200);

    // The script cache is lost (a restart, a failover to a node that never loaded it)...
    const direct = new Redis(redis.url);
    await direct.script('FLUSH');
    direct.disconnect();
    // ...and Redis goes away while the limiter sends the script again.
    const cut = proxy.cutOn(/redis\.call\(/);
    const duringReload = await ping();
    await cut;
    const whileAway = await ping();
    // By the third reconnection attempt ioredis has failed the reload it had in flight (maxRetriesPerRequest 1).
    await reconnectAttempts(app.deps.redis, 2);
    const afterReloadFailed = await ping();
    await reconnectAttempts(app.deps.redis, 1);

    expect(unhandled).toEqual([]);
    // A limiter in trouble never refuses an operator: it limits in this process instead.
    expect([duringReload.status, whileAway.status, afterReloadFailed.status]).toEqual([200, 200, 200]);
  });
});
