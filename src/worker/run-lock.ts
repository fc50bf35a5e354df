import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';

// Deletes the lock only if it still holds this owner's token: a run that outlived its lease must not free
// the lock another process took meanwhile.
const RELEASE_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

type LockRedis = Redis & { hooklaneReleaseRunLock(key: string, token: string): Promise<number> };

/**
 * One process at a time, across every instance: SET NX PX with a token of its own. The lease (`ttlMs`)
 * frees the lock of an owner that died holding it; only the owner releases it earlier.
 */
export class RunLock {
  private readonly redis: LockRedis;

  constructor(redis: Redis, private readonly key: string, private readonly ttlMs: number) {
    if (!('hooklaneReleaseRunLock' in redis)) redis.defineCommand('hooklaneReleaseRunLock', { numberOfKeys: 1, lua: RELEASE_SCRIPT });
    this.redis = redis as LockRedis;
  }

  /** Runs `work` if the lock is free and resolves to its result, or to undefined when another holds it. */
  async withLock<T>(work: () => Promise<T>): Promise<T | undefined> {
    const token = randomBytes(16).toString('hex');
    if ((await this.redis.set(this.key, token, 'PX', this.ttlMs, 'NX')) !== 'OK') return undefined;
    try {
      return await work();
    } finally {
      await this.redis.hooklaneReleaseRunLock(this.key, token);
    }
  }
}
