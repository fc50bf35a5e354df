import { Router } from 'express';
import type { Redis } from 'ioredis';
import type { Config } from '../config';
import type { Lifecycle } from '../lifecycle';
import { pingWithin } from '../redis';

export interface HealthDeps {
  config: Pick<Config, 'REDIS_READY_TIMEOUT_MS'>;
  redis: Redis;
  lifecycle: Lifecycle;
}

/** Liveness says the process runs; readiness says it can take traffic (Redis answers, not shutting down). */
export function healthRoutes({ config, redis, lifecycle }: HealthDeps): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    if (lifecycle.shuttingDown) {
      res.status(503).json({ status: 'shutting-down' });
      return;
    }
    const redisOk = await pingWithin(redis, config.REDIS_READY_TIMEOUT_MS);
    res.status(redisOk ? 200 : 503).json({ status: redisOk ? 'ready' : 'redis-unavailable', redis: redisOk });
  });
  return router;
}
