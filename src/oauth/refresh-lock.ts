import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { withRedisDeadline } from '../jobs';
import type { StripeAppCaller } from '../stripe/verify-stripe-app-caller';

// Deletes the lock only if it is still ours: after our TTL ran out another request may hold it.
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

/**
 * One lock per Dashboard user in Redis (SET NX PX), shared by every web instance, so only one request at
 * a time renews that user's tokens. The TTL frees the lock of a process that died holding it.
 */
export class RefreshLock {
  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
    private readonly deadlineMs: number,
  ) {}

  /** The holder's token, or undefined when another request holds the lock. */
  async acquire(caller: StripeAppCaller, ttlMs: number): Promise<string | undefined> {
    const token = randomBytes(16).toString('hex');
    const set = await this.run(() => this.redis.set(this.key(caller), token, 'PX', ttlMs, 'NX'));
    return set === 'OK' ? token : undefined;
  }

  async release(caller: StripeAppCaller, token: string): Promise<void> {
    await this.run(() => this.redis.eval(RELEASE, 1, this.key(caller), token));
  }

  /** Resolves once nobody holds the lock, or at `untilMs` (epoch ms), whichever comes first. */
  async waitForRelease(caller: StripeAppCaller, untilMs: number): Promise<void> {
    // A renewal takes one provider round trip and a few Secret Store calls: poll often at first, then less.
    let pauseMs = 20;
    while (Date.now() < untilMs && (await this.run(() => this.redis.exists(this.key(caller))))) {
      await sleep(Math.min(pauseMs, Math.max(1, untilMs - Date.now())));
      pauseMs = Math.min(pauseMs * 2, 250);
    }
  }

  private run<T>(command: () => Promise<T>): Promise<T> {
    return withRedisDeadline(this.redis, this.deadlineMs, command);
  }

  private key(caller: StripeAppCaller): string {
    return `${this.keyPrefix}:oauth:refresh-lock:${caller.accountId}:${caller.userId}`;
  }
}
