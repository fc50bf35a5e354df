import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import { rateLimit } from 'express-rate-limit';
import type { Redis } from 'ioredis';
import { RedisStore, type RedisReply } from 'rate-limit-redis';
import type { Config } from '../config';
import { AppError, registerErrorCodes } from '../errors';
import { withRedisDeadline } from '../jobs';
import type { Logger } from '../logger';

export interface AdminAuthDeps {
  config: Pick<Config, 'ADMIN_TOKEN' | 'ADMIN_RATE_LIMIT_PER_MINUTE' | 'QUEUE_PREFIX' | 'ENQUEUE_TIMEOUT_MS'>;
  /** The producer connection: fails fast while Redis is away. */
  redis: Redis;
  logger: Logger;
}

/** Who made an admin call, without the secret: set on `res.locals.admin` by {@link adminAuth}. */
export interface AdminIdentity {
  /** First 8 hex digits of sha256(token): tells rotated tokens apart in logs, reveals nothing usable. */
  tokenId: string;
}

const sha256 = (value: string) => createHash('sha256').update(value).digest();

export function adminTokenId(token: string): string {
  return sha256(token).toString('hex').slice(0, 8);
}

// Not a wrong-token 401: no token can work until the server is given one, and the console says so.
registerErrorCodes({ ADMIN_NOT_CONFIGURED: { status: 503, title: 'Admin routes are not configured' } });

const BEARER = /^Bearer[ \t]+([^\s]+)[ \t]*$/i;

function unauthorized(detail: string): AppError {
  return new AppError('UNAUTHORIZED', detail, { headers: { 'WWW-Authenticate': 'Bearer realm="hooklane-admin"' } });
}

/** Compares SHA-256 digests in constant time, so neither the content nor the length of the token leaks. */
function tokenMatches(presented: string, expected: string): boolean {
  return timingSafeEqual(sha256(presented), sha256(expected));
}

function checkBearer(config: AdminAuthDeps['config']): RequestHandler {
  const expected = config.ADMIN_TOKEN;
  return (req, res, next) => {
    if (!expected) {
      next(new AppError('ADMIN_NOT_CONFIGURED', 'Admin routes are disabled: set ADMIN_TOKEN (16+ characters) to enable them.'));
      return;
    }
    const presented = BEARER.exec(req.get('authorization') ?? '')?.[1];
    if (!presented) {
      next(unauthorized('Send Authorization: Bearer <ADMIN_TOKEN>.'));
      return;
    }
    if (!tokenMatches(presented, expected)) {
      next(unauthorized('The bearer token is not valid.'));
      return;
    }
    const admin: AdminIdentity = { tokenId: adminTokenId(presented) };
    res.locals.admin = admin;
    next();
  };
}

/**
 * rate-limit-redis loads its Lua scripts once, at start-up; if Redis was away then, the stored promise stays
 * rejected and every later call would fail. This store reloads them on the next call instead, and turns
 * Redis trouble into REDIS_UNAVAILABLE (503) within the producer deadline rather than a 500 or a hang.
 */
class ResilientRedisStore extends RedisStore {
  constructor(
    private readonly redis: Redis,
    private readonly deadlineMs: number,
    prefix: string,
  ) {
    super({
      prefix,
      sendCommand: (command: string, ...args: string[]) => redis.call(command, ...args) as Promise<RedisReply>,
    });
  }

  override async increment(key: string) {
    this.incrementScriptSha = this.incrementScriptSha.catch(() => this.loadIncrementScript());
    return withRedisDeadline(this.redis, this.deadlineMs, () => super.increment(key));
  }
}

function adminRateLimit({ config, redis, logger }: AdminAuthDeps): RequestHandler {
  return rateLimit({
    windowMs: 60_000,
    limit: config.ADMIN_RATE_LIMIT_PER_MINUTE,
    // Per client IP (req.ip honours TRUST_PROXY, i.e. the ALB); IPv6 clients are grouped by /56.
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    identifier: 'admin',
    store: new ResilientRedisStore(redis, config.ENQUEUE_TIMEOUT_MS, `${config.QUEUE_PREFIX}:rate-limit:admin:`),
    logger: {
      warn: (err, message) => logger.warn({ err }, message ?? 'admin rate limiter'),
      error: (err, message) => logger.warn({ err }, message ?? 'admin rate limiter'),
    },
    handler: (_req, _res, next) => {
      next(new AppError('RATE_LIMITED', 'Too many admin requests from this address; see the RateLimit and Retry-After headers.'));
    },
  });
}

// One limiter per Redis connection: calling adminAuth(deps) for several routers shares one store, as
// express-rate-limit requires, and the count is the same whichever admin route is hit.
const built = new WeakMap<Redis, RequestHandler[]>();

/**
 * Guards admin routes: a Redis-backed per-IP rate limit (so it holds across instances) first, then
 * `Authorization: Bearer <ADMIN_TOKEN>`. Failures go to the problem handler (401 UNAUTHORIZED with
 * `WWW-Authenticate: Bearer`, 429 RATE_LIMITED, 503 ADMIN_NOT_CONFIGURED without ADMIN_TOKEN); success sets `res.locals.admin` ({@link AdminIdentity}).
 */
export function adminAuth(deps: AdminAuthDeps): RequestHandler[] {
  const existing = built.get(deps.redis);
  if (existing) return existing;
  const handlers = [adminRateLimit(deps), checkBearer(deps.config)];
  built.set(deps.redis, handlers);
  return handlers;
}

/** Logs what an admin did and with which token, e.g. `logAdminAction(req, 'event.replay', {eventId})`. */
export function logAdminAction(req: Request, action: string, details: Record<string, unknown> = {}): void {
  const res = req.res as Response | undefined;
  const admin = res?.locals.admin as AdminIdentity | undefined;
  req.log.info({ admin: admin?.tokenId ?? null, action, ...details }, 'admin action');
}
