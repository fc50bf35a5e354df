import type { Redis } from 'ioredis';
import { withRedisDeadline } from './jobs';
import type { Logger } from './logger';
import { readRedisMemoryInfo } from './redis';

/** What intake asks before it appends: is Redis over its high-water mark? */
export interface MemoryHighWater {
  readonly full: boolean;
}

/**
 * Watches Redis memory (INFO memory, once a second) so that webhook intake can stop at a high-water mark
 * below maxmemory. Under noeviction, a web that appends until Redis is out of memory takes the last bytes
 * the workers need to move, process and finish jobs (every step writes) and the operators need to act: the
 * backlog then never drains while deliveries keep coming. Above `highWater` × maxmemory, intake answers
 * 503 (Stripe retries) and the rest is theirs. Never full when Redis has no maxmemory; a failed read keeps
 * the last answer (Redis being away is answered by the write itself).
 */
export class RedisMemoryGuard implements MemoryHighWater {
  private over = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly highWater: number,
    private readonly logger: Logger,
    private readonly intervalMs = 1000,
    private readonly deadlineMs = 1000,
  ) {}

  get full(): boolean {
    return this.over;
  }

  start(): void {
    if (this.timer) return;
    void this.refresh();
    // unref: a guard never keeps a process alive.
    this.timer = setInterval(() => void this.refresh(), this.intervalMs).unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Reads Redis memory now; never rejects. */
  async refresh(): Promise<void> {
    if (this.redis.status !== 'ready') return;
    try {
      const { usedBytes, maxBytes } = await withRedisDeadline(this.redis, this.deadlineMs, () => readRedisMemoryInfo(this.redis));
      const over = maxBytes > 0 && usedBytes >= this.highWater * maxBytes;
      if (over !== this.over) {
        const fields = { usedBytes, maxBytes, highWater: this.highWater };
        if (over) this.logger.warn(fields, 'Redis memory over the high-water mark: webhook intake answers 503 until it is under');
        else this.logger.info(fields, 'Redis memory under the high-water mark again: webhook intake resumes');
      }
      this.over = over;
    } catch {
      // Keep the last answer: a Redis that does not answer refuses the intake write by itself.
    }
  }
}
