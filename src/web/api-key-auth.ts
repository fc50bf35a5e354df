import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Redis } from 'ioredis';
import { ApiKeyStore } from '../api-keys/api-key-store';
import type { ApiKeyScope, ApiKeyView } from '../api-keys/api-key-types';
import type { Config } from '../config';
import { AppError, registerErrorCodes } from '../errors';
import { withRedisDeadline } from '../jobs';
import type { Logger } from '../logger';
import { redisRateLimit } from './rate-limit';

registerErrorCodes({
  FORBIDDEN: { status: 403, title: 'Forbidden' },
});

export interface ApiKeyAuthDeps {
  config: Pick<Config, 'QUEUE_PREFIX' | 'ENQUEUE_TIMEOUT_MS' | 'API_KEY_RATE_LIMIT_PER_MINUTE'>;
  /** The producer connection: fails fast while Redis is away. */
  redis: Redis;
  logger: Logger;
}

const BEARER = /^Bearer[ \t]+([^\s]+)[ \t]*$/i;
const REALM = 'Bearer realm="hooklane-jobs"';
const HOW_TO_GET_ONE =
  'An admin creates keys in the console (API keys) or with `npm run api-key -- create <name>`.';

// One store per connection, so every router of an app shares its record of recent lastUsedAt writes.
const stores = new WeakMap<Redis, ApiKeyStore>();

/** The API key store of this connection (and QUEUE_PREFIX). */
export function apiKeyStoreFor({ redis, config, logger }: Omit<ApiKeyAuthDeps, 'config'> & { config: Pick<Config, 'QUEUE_PREFIX'> }): ApiKeyStore {
  let store = stores.get(redis);
  if (!store) {
    store = new ApiKeyStore(redis, {
      prefix: config.QUEUE_PREFIX,
      onTouchError: (err) => logger.warn({ err: (err as Error).message }, 'api key lastUsedAt not recorded'),
    });
    stores.set(redis, store);
  }
  return store;
}

/** The key that authenticated the request, set on `res.locals.apiKey` by {@link apiKeyAuth}. */
export function apiKeyOf(res: Response): ApiKeyView | undefined {
  return res.locals.apiKey as ApiKeyView | undefined;
}

function unauthorized(detail: string, error?: 'invalid_token'): AppError {
  const challenge = error ? `${REALM}, error="${error}"` : REALM;
  return new AppError('UNAUTHORIZED', detail, { headers: { 'WWW-Authenticate': challenge } });
}

function forbidden(detail: string, error?: 'insufficient_scope' | 'invalid_token'): AppError {
  return new AppError('FORBIDDEN', detail, error ? { headers: { 'WWW-Authenticate': `${REALM}, error="${error}"` } } : {});
}

/** A handler for any route: generic in the params, so the route keeps Express's typing of its own. */
export type RouteGuard = <P>(req: Request<P>, res: Response, next: NextFunction) => void;

/**
 * Guards the jobs API with API keys (`Authorization: Bearer hl_<id>_<secret>`), then limits each key's
 * requests across every instance (Redis). Build it once per app and ask it for a scope per route:
 * `apiKey('jobs:write')`. The key is checked before the body is read, so an anonymous client cannot make
 * the server read, parse or store anything.
 *
 * - no key, a malformed one (the admin token is not an API key) or an unknown one: 401 UNAUTHORIZED
 * - a revoked key, or one without the route's scope: 403 FORBIDDEN
 * - over API_KEY_RATE_LIMIT_PER_MINUTE: 429 RATE_LIMITED with Retry-After
 */
export function apiKeyAuth(deps: ApiKeyAuthDeps): (scope: ApiKeyScope) => RouteGuard {
  const store = apiKeyStoreFor(deps);
  const authenticate: RequestHandler = async (req: Request, res, next) => {
    const presented = BEARER.exec(req.get('authorization') ?? '')?.[1];
    if (!presented) {
      next(unauthorized(`Send Authorization: Bearer <API key>. ${HOW_TO_GET_ONE}`));
      return;
    }
    const result = await withRedisDeadline(deps.redis, deps.config.ENQUEUE_TIMEOUT_MS, () => store.verify(presented));
    if (!result.ok) {
      if (result.reason === 'revoked') next(forbidden('This API key was revoked.', 'invalid_token'));
      else if (result.reason === 'malformed') next(unauthorized('The bearer token is not an API key (hl_<id>_<secret>).', 'invalid_token'));
      else next(unauthorized('The API key is not valid.', 'invalid_token'));
      return;
    }
    res.locals.apiKey = result.key;
    (req.log as Request['log'] | undefined)?.setBindings({ apiKeyId: result.key.id });
    next();
  };
  const rateLimit = redisRateLimit(deps, {
    name: 'api-key',
    limit: deps.config.API_KEY_RATE_LIMIT_PER_MINUTE,
    windowMs: 60_000,
    key: (_req, res) => apiKeyOf(res)?.id,
    detail: 'Too many requests with this API key; see Retry-After.',
  });
  return (scope) => {
    const requireScope: RequestHandler = (_req, res, next) => {
      const key = apiKeyOf(res);
      next(key?.scopes.includes(scope) ? undefined : forbidden(`This API key lacks the ${scope} scope.`, 'insufficient_scope'));
    };
    return chain([authenticate, requireScope, rateLimit]);
  };
}

/** Runs handlers in turn as one. */
function chain(handlers: RequestHandler[]): RouteGuard {
  return (req, res, next) => {
    const step = (i: number, err?: unknown): void => {
      const handler = handlers[i];
      if (err !== undefined || !handler) {
        next(err);
        return;
      }
      Promise.resolve(handler(req as unknown as Request, res, (e?: unknown) => step(i + 1, e))).catch(next);
    };
    step(0);
  };
}
