import type { Request, RequestHandler, Response } from 'express';
import type { Redis } from 'ioredis';
import type { Config } from '../config';
import { AppError } from '../errors';
import { withRedisDeadline } from '../jobs';
import type { Logger } from '../logger';

// Stand-in with the interface of the shared limiter being built on branch sec-auth; replaced by it on merge.

export interface RateLimitDeps {
  redis: Redis;
  config: Pick<Config, 'QUEUE_PREFIX' | 'ENQUEUE_TIMEOUT_MS'>;
  logger: Logger;
}

export interface RateLimitOptions {
  name: string;
  limit: number;
  windowMs: number;
  key: (req: Request, res: Response) => string | undefined;
  detail: string;
}

/** A fixed-window limit counted in Redis, so it holds across every web instance. */
export function redisRateLimit(deps: RateLimitDeps, options: RateLimitOptions): RequestHandler {
  const { redis, config } = deps;
  return async (req, res, next) => {
    const key = options.key(req, res);
    if (key === undefined) {
      next();
      return;
    }
    // The window starts at a key's first hit: SET NX PX gives it its expiry, INCR keeps it.
    const redisKey = `${config.QUEUE_PREFIX}:rate-limit:${options.name}:${key}`;
    const replies = await withRedisDeadline(redis, config.ENQUEUE_TIMEOUT_MS, () =>
      redis.multi().set(redisKey, 0, 'PX', options.windowMs, 'NX').incr(redisKey).pttl(redisKey).exec(),
    );
    const hits = Number(replies?.[1]?.[1] ?? 0);
    const resetSeconds = Math.max(1, Math.ceil(Number(replies?.[2]?.[1] ?? options.windowMs) / 1000));
    if (hits > options.limit) {
      next(new AppError('RATE_LIMITED', options.detail, { headers: { 'Retry-After': String(resetSeconds) } }));
      return;
    }
    next();
  };
}
