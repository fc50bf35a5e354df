/**
 * The Redis settings hooklane depends on, applied wherever its Redis runs: the ElastiCache parameter group
 * (infra/lib/cache.ts), the embedded redis-server of `npm start`, the tests and the bench
 * (src/dev/embedded-redis.ts) and docker-compose.yml. test/infra/redis-parameters.test.ts checks they agree.
 */
export const REDIS_PARAMETERS = {
  // Under any eviction policy BullMQ silently loses jobs.
  'maxmemory-policy': 'noeviction',
  // A hash stays in Redis's compact listpack encoding while every value is at most this long. BullMQ's job
  // hash holds its options (about 190 bytes of JSON) and return value: at the default 64 a completed job
  // takes 1,144 bytes, at 512 it takes 536 (docs/numbers.md).
  'hash-max-listpack-value': '512',
  // Redis 7's and ElastiCache's default, pinned: the dedup window's buckets (64 ids on average) and the
  // figures in docs/numbers.md rest on it.
  'hash-max-listpack-entries': '512',
} as const;

/** REDIS_PARAMETERS as redis-server command-line arguments. */
export const redisServerArgs = (): string[] => Object.entries(REDIS_PARAMETERS).flatMap(([key, value]) => [`--${key}`, value]);
