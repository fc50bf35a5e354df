import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import type { Logger } from '../../src/logger';
import { loadConfig } from '../../src/config';
import { runShutdownSteps } from '../../src/lifecycle';
import { createApp } from '../../src/web/app';
import { createWebDeps, type WebDeps } from '../../src/web/deps';
import { applyServerTimeouts } from '../../src/web/server';
import { waitForRedis } from '../../src/redis';
import { eventIndexFor } from '../../src/events/event-index';
import { intakeLogFor } from '../../src/events/intake-log';
import { QUEUE_NAMES } from '../../src/queues';
import { IntakeMover } from '../../src/worker/intake-mover';

export interface TestApp {
  url: string;
  server: Server;
  deps: WebDeps;
  /**
   * Does what a worker's mover does, once and deterministically: turns every accepted webhook waiting in
   * the intake log into its job and event index record. Resolves to how many it moved.
   */
  moveIntake(): Promise<number>;
  close(): Promise<void>;
}

export interface TestAppOptions {
  /** What serves requests; the real Express app by default. */
  listener?: (deps: WebDeps) => RequestListener;
  /** Where the app logs; silent (or TEST_LOG_LEVEL) by default. */
  logger?: Logger;
  /** The port to listen on (127.0.0.1); a free one by default. */
  port?: number;
}

/**
 * The real app built in-process against a real Redis, listening on port 0. Each call gets its own queue
 * prefix (unless `env` names one), so tests sharing a Redis never see each other's jobs.
 */
export async function startTestApp(
  redisUrl: string,
  env: Record<string, string> = {},
  { listener = createApp, logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }), port: wanted = 0 }: TestAppOptions = {},
): Promise<TestApp> {
  const config = loadConfig({
    NODE_ENV: 'test',
    REDIS_URL: redisUrl,
    QUEUE_PREFIX: `test-${randomUUID()}`,
    ...env,
  });
  const deps = createWebDeps(config, logger);
  await waitForRedis(deps.redis, 20_000);
  // The process's own socket timeouts (a test's idle socket must not be closed under a client reusing it).
  const server = applyServerTimeouts(createServer(listener(deps)));
  await new Promise<void>((resolve) => server.listen(wanted, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const log = intakeLogFor(deps.redis, config);
  const mover = new IntakeMover({
    reader: log,
    log,
    index: eventIndexFor(deps.redis, config),
    queue: deps.queues[QUEUE_NAMES.stripeEvents],
    logger,
    consumer: 'test',
  });
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    deps,
    moveIntake: () => mover.moveAvailable(),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await runShutdownSteps(deps.closeSteps, logger);
      // quit() fails while Redis is down, and ioredis would keep reconnecting and hold jest open.
      deps.redis.disconnect();
    },
  };
}
