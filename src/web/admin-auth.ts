import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import type { Redis } from 'ioredis';
import type { Config } from '../config';
import { AppError, registerErrorCodes } from '../errors';
import type { Logger } from '../logger';
import { clientAddressKey, redisFailureLimit, redisRateLimit, type FailureLimit } from './rate-limit';

export interface AdminAuthDeps {
  config: Pick<Config, 'ADMIN_TOKEN' | 'ADMIN_RATE_LIMIT_PER_MINUTE' | 'ADMIN_AUTH_FAILURES_PER_MINUTE' | 'QUEUE_PREFIX' | 'ENQUEUE_TIMEOUT_MS'>;
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

interface AdminLimits {
  /** Wrong tokens per client address: past the limit every call from it is refused before its token is read. */
  failures: FailureLimit;
  /** Calls with the right token, per token and client address. */
  calls: RequestHandler;
}

function checkBearer(config: AdminAuthDeps['config'], failures: FailureLimit): RequestHandler {
  const expected = config.ADMIN_TOKEN;
  return async (req, res, next) => {
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
      // Counted before answering, so a guesser's next attempt already sees this one.
      await failures.recordFailure(req, res);
      next(unauthorized('The bearer token is not valid.'));
      return;
    }
    const admin: AdminIdentity = { tokenId: adminTokenId(presented) };
    res.locals.admin = admin;
    next();
  };
}

const MINUTE = 60_000;

function adminLimits(deps: AdminAuthDeps): AdminLimits {
  const { config } = deps;
  return {
    failures: redisFailureLimit(deps, {
      name: 'admin-failures',
      limit: config.ADMIN_AUTH_FAILURES_PER_MINUTE,
      windowMs: MINUTE,
      key: (req) => clientAddressKey(req),
      detail: 'Too many wrong admin tokens from this address; see the Retry-After header.',
    }),
    calls: redisRateLimit(deps, {
      name: 'admin',
      limit: config.ADMIN_RATE_LIMIT_PER_MINUTE,
      windowMs: MINUTE,
      key: (req, res) => `${(res.locals.admin as AdminIdentity).tokenId}:${clientAddressKey(req) ?? ''}`,
      detail: 'Too many admin requests from this address; see the RateLimit and Retry-After headers.',
    }),
  };
}

// One set of limiters per Redis connection: calling adminAuth(deps) for several routers shares them, so the
// count is the same whichever admin route is hit.
const built = new WeakMap<Redis, RequestHandler[]>();

/**
 * Guards admin routes, checking the token before anything is written to Redis, so the admin API keeps
 * working while Redis refuses writes (OOM under noeviction: exactly when operators must remove jobs):
 * 1. a client address that sent too many wrong tokens this minute is refused (429; a Redis read only);
 * 2. `Authorization: Bearer <ADMIN_TOKEN>`, compared in constant time; a wrong one is counted (401);
 * 3. a Redis-backed limit per token and address on the calls that passed (429).
 * The limits hold across instances; when Redis cannot count they hold in this process instead of refusing.
 * Failures go to the problem handler (401 UNAUTHORIZED with `WWW-Authenticate: Bearer`, 429 RATE_LIMITED,
 * 503 ADMIN_NOT_CONFIGURED without ADMIN_TOKEN);
 * success sets `res.locals.admin` ({@link AdminIdentity}).
 */
export function adminAuth(deps: AdminAuthDeps): RequestHandler[] {
  const existing = built.get(deps.redis);
  if (existing) return existing;
  const { failures, calls } = adminLimits(deps);
  const handlers = [failures.gate, checkBearer(deps.config, failures), calls];
  built.set(deps.redis, handlers);
  return handlers;
}

/** Logs what an admin did and with which token, e.g. `logAdminAction(req, 'event.replay', {eventId})`. */
export function logAdminAction(req: Request, action: string, details: Record<string, unknown> = {}): void {
  const res = req.res as Response | undefined;
  const admin = res?.locals.admin as AdminIdentity | undefined;
  req.log.info({ admin: admin?.tokenId ?? null, action, ...details }, 'admin action');
}
