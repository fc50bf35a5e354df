import type { Request, RequestHandler, Response } from 'express';
import { ipKeyGenerator } from 'express-rate-limit';
import type { Redis } from 'ioredis';
import type { Config } from '../config';
import { AppError } from '../errors';
import type { Logger } from '../logger';
import { WindowCounter, type WindowCount } from './rate-limit-counter';

export interface RateLimitDeps {
  redis: Redis;
  config: Pick<Config, 'QUEUE_PREFIX' | 'ENQUEUE_TIMEOUT_MS'>;
  logger: Logger;
}

export interface RateLimitOptions {
  /** Key namespace, e.g. 'admin', 'api-key', 'stripe-app-account'; also the policy name in the RateLimit headers. */
  name: string;
  /** Requests per window. */
  limit: number;
  windowMs: number;
  /** Whom a request counts for; undefined = not limited by this limiter. */
  key: (req: Request, res: Response) => string | undefined;
  /** problem+json detail on 429. */
  detail: string;
}

/** The client's address (req.ip honours TRUST_PROXY, i.e. the ALB); IPv6 clients are grouped by /56. */
export function clientAddressKey(req: Request): string | undefined {
  return req.ip ? ipKeyGenerator(req.ip) : undefined;
}

const seconds = (ms: number) => Math.max(0, Math.ceil(ms / 1000));

/** IETF draft-8 RateLimit headers; appended, so several limiters on one route each show their policy. */
function setRateLimitHeaders(res: Response, options: RateLimitOptions, count: WindowCount): void {
  if (res.headersSent) return;
  res.append('RateLimit-Policy', `"${options.name}"; q=${options.limit}; w=${seconds(options.windowMs)}`);
  res.append('RateLimit', `"${options.name}"; r=${Math.max(0, options.limit - count.hits)}; t=${seconds(count.resetMs)}`);
}

function rateLimited(options: RateLimitOptions, count: WindowCount): AppError {
  return new AppError('RATE_LIMITED', options.detail, { headers: { 'Retry-After': String(Math.max(1, seconds(count.resetMs))) } });
}

/**
 * A fixed-window rate limit counted in Redis, so it holds across every web instance: over `limit` requests
 * per key and window answer 429 RATE_LIMITED (problem+json, Retry-After, RateLimit headers). When Redis
 * cannot count (OOM, timeout, down) the limit is kept in this process instead of refusing the request
 * ({@link WindowCounter}). Build it when the app is built, not per request.
 */
export function redisRateLimit(deps: RateLimitDeps, options: RateLimitOptions): RequestHandler {
  const counter = new WindowCounter(deps, options.name, options.windowMs);
  return async (req, res, next) => {
    const key = options.key(req, res);
    if (key === undefined) {
      next();
      return;
    }
    const count = await counter.hit(key);
    setRateLimitHeaders(res, options, count);
    next(count.hits > options.limit ? rateLimited(options, count) : undefined);
  };
}

/** A limit on failed attempts (wrong credentials), built by {@link redisFailureLimit}. */
export interface FailureLimit {
  /**
   * Refuses (429) a client that already failed `limit` times in this window, BEFORE its credentials are
   * looked at: past the limit even the right secret is refused, so the answers stop telling a guesser
   * anything. Only reads Redis, so it works while Redis refuses writes.
   */
  gate: RequestHandler;
  /** Counts one failure for the request's client; never rejects. */
  recordFailure(req: Request, res: Response): Promise<void>;
}

/** Limits failed attempts per key (e.g. per client address) across instances; see {@link FailureLimit}. */
export function redisFailureLimit(deps: RateLimitDeps, options: RateLimitOptions): FailureLimit {
  const counter = new WindowCounter(deps, options.name, options.windowMs);
  return {
    gate: async (req, res, next) => {
      const key = options.key(req, res);
      if (key === undefined) {
        next();
        return;
      }
      const count = await counter.peek(key);
      if (count.hits < options.limit) {
        next();
        return;
      }
      setRateLimitHeaders(res, options, count);
      next(rateLimited(options, count));
    },
    recordFailure: async (req, res) => {
      const key = options.key(req, res);
      if (key !== undefined) await counter.hit(key);
    },
  };
}
