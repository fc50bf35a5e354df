import type { Config } from '../config';
import { Lifecycle, type ShutdownStep } from '../lifecycle';
import type { Logger } from '../logger';
import { eventIndexFor } from '../events/event-index';
import { intakeLogFor } from '../events/intake-log';
import { closeQueues, createQueues } from '../queues';
import { createRedis, logRedisErrors } from '../redis';
import { RedisMemoryGuard } from '../redis-memory-guard';
import type { AppDeps } from './app';

export interface WebDeps extends AppDeps {
  /** Steps that release what the deps hold, run by main.ts after the HTTP server has drained. */
  closeSteps: ShutdownStep[];
  memoryGuard: RedisMemoryGuard;
}

/**
 * Builds everything the web app needs from config: the one place that wires outside systems, used by
 * web/main.ts and by tests (which pass their own config).
 */
export function createWebDeps(config: Config, logger: Logger): WebDeps {
  const redis = createRedis(config, 'producer');
  logRedisErrors(redis, logger);
  const queues = createQueues(config, redis);
  // Their scripts are defined on the connection now, before any request: ioredis's auto-pipelining
  // cannot send a command defined after its pending pipeline was made.
  intakeLogFor(redis, config);
  eventIndexFor(redis, config);
  const memoryGuard = new RedisMemoryGuard(redis, config.INTAKE_MEMORY_HIGH_WATER, logger);
  memoryGuard.start();
  return {
    config,
    logger,
    redis,
    queues,
    lifecycle: new Lifecycle(),
    memoryGuard,
    closeSteps: [
      { name: 'stop memory guard', run: async () => memoryGuard.stop() },
      { name: 'close queues', run: () => closeQueues(queues) },
      { name: 'close redis', run: () => redis.quit() },
    ],
  };
}
