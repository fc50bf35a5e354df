import type { ApiKeyScope } from '../../src/api-keys/api-key-types';
import { ApiKeyStore } from '../../src/api-keys/api-key-store';
import { createRedis, waitForRedis } from '../../src/redis';

/**
 * Creates an API key straight in Redis, as `npm run api-key -- create` does, for the deployment that
 * `env` describes (REDIS_URL, QUEUE_PREFIX). Returns the token.
 */
export async function createApiKey(
  env: { REDIS_URL?: string | undefined; REDIS_PASSWORD?: string | undefined; QUEUE_PREFIX?: string | undefined },
  options: { name?: string; scopes?: ApiKeyScope[] } = {},
): Promise<string> {
  if (!env.REDIS_URL) throw new Error('createApiKey needs REDIS_URL');
  const redis = createRedis({ REDIS_URL: env.REDIS_URL, ...(env.REDIS_PASSWORD ? { REDIS_PASSWORD: env.REDIS_PASSWORD } : {}) }, 'producer');
  try {
    await waitForRedis(redis, 10_000);
    const store = new ApiKeyStore(redis, { prefix: env.QUEUE_PREFIX ?? 'hooklane' });
    const { token } = await store.create({ name: options.name ?? 'test', scopes: options.scopes });
    return token;
  } finally {
    redis.disconnect();
  }
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** An `Authorization` header with a fresh API key of a test app's deployment (its Redis and QUEUE_PREFIX). */
export async function apiKeyHeader(
  app: { deps: { redis: import('ioredis').Redis; config: { QUEUE_PREFIX: string } } },
  scopes?: ApiKeyScope[],
): Promise<{ authorization: string }> {
  const store = new ApiKeyStore(app.deps.redis, { prefix: app.deps.config.QUEUE_PREFIX });
  const { token } = await store.create({ name: 'test', scopes });
  return bearer(token);
}
