import type { Redis } from 'ioredis';
import type { Config } from '../config';
import { withRedisDeadline } from '../jobs';
import type { Logger } from '../logger';

/** How many hits a key has in the current window, and when that window ends. */
export interface WindowCount {
  hits: number;
  resetMs: number;
}

// One script call per hit: INCR and the window's expiry land together, so a key can never be left without
// an expiry (which would lock its client out for good). ioredis sends it with EVALSHA and falls back to
// EVAL on NOSCRIPT inside the same command promise: there is no separately stored "script loaded" promise
// that could reject with nobody listening (the rate-limit-redis store had one; see admin-auth-redis-faults.test.ts).
const HIT_SCRIPT = `
local hits = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {hits, ttl}
`;
const HIT_COMMAND = 'hooklaneRateLimitHit';
type HitCommand = (key: string, windowMs: number) => Promise<[number, number]>;

/**
 * Defined once per connection, when the limiter is built (at app build time): ioredis's auto-pipelining
 * cannot send a command defined after its pending pipeline was made.
 */
function hitCommand(redis: Redis): HitCommand {
  const commands = redis as unknown as Record<string, HitCommand | undefined>;
  if (!commands[HIT_COMMAND]) redis.defineCommand(HIT_COMMAND, { numberOfKeys: 1, lua: HIT_SCRIPT });
  return (key, windowMs) => commands[HIT_COMMAND]!.call(redis, key, windowMs);
}

// The in-process fallback keeps at most this many clients per window; beyond it, new clients share one
// count, so a flood of addresses during a Redis outage cannot grow the web's memory without bound.
const LOCAL_MAX_KEYS = 10_000;
const LOCAL_OVERFLOW_KEY = '\u0000overflow';

/** A fixed-window counter in this process: what limits while Redis cannot be written. */
class LocalWindow {
  private hits = new Map<string, number>();
  private endsAt = 0;

  constructor(private readonly windowMs: number) {}

  private roll(now: number): void {
    if (now < this.endsAt) return;
    this.hits.clear();
    this.endsAt = now + this.windowMs;
  }

  private slot(key: string): string {
    return this.hits.has(key) || this.hits.size < LOCAL_MAX_KEYS ? key : LOCAL_OVERFLOW_KEY;
  }

  hit(key: string, now = Date.now()): WindowCount {
    this.roll(now);
    const slot = this.slot(key);
    const hits = (this.hits.get(slot) ?? 0) + 1;
    this.hits.set(slot, hits);
    return { hits, resetMs: this.endsAt - now };
  }

  peek(key: string, now = Date.now()): WindowCount {
    this.roll(now);
    return { hits: this.hits.get(this.slot(key)) ?? 0, resetMs: this.endsAt - now };
  }
}

export interface CounterDeps {
  redis: Redis;
  config: Pick<Config, 'QUEUE_PREFIX' | 'ENQUEUE_TIMEOUT_MS'>;
  logger: Logger;
}

/**
 * Counts hits per key and window in Redis (so every web instance shares the count), under
 * `${QUEUE_PREFIX}:rate-limit:${name}:`. When Redis cannot count (OOM under noeviction, no answer within
 * ENQUEUE_TIMEOUT_MS, connection down) it counts in this process instead, with the same window: a limiter
 * must neither refuse every request nor let every request through while Redis is in trouble. The switch
 * is logged at most once per window, and so is the return to Redis. Never rejects.
 */
export class WindowCounter {
  private readonly hitInRedis: HitCommand;
  private readonly local: LocalWindow;
  private readonly prefix: string;
  private lastFallbackLogAt = Number.NEGATIVE_INFINITY;
  private fallbacksSinceLog = 0;
  private onFallback = false;

  constructor(
    private readonly deps: CounterDeps,
    private readonly name: string,
    private readonly windowMs: number,
  ) {
    this.hitInRedis = hitCommand(deps.redis);
    this.local = new LocalWindow(windowMs);
    this.prefix = `${deps.config.QUEUE_PREFIX}:rate-limit:${name}:`;
  }

  /** Counts one hit for `key`. */
  async hit(key: string): Promise<WindowCount> {
    try {
      const [hits, resetMs] = await this.inRedis(() => this.hitInRedis(this.prefix + key, this.windowMs));
      this.backOnRedis();
      return { hits: Number(hits), resetMs: Number(resetMs) };
    } catch (err) {
      this.fellBack(err);
      return this.local.hit(key);
    }
  }

  /**
   * The count for `key` without adding to it. Reads work while Redis refuses writes (OOM); hits counted in
   * this process during a write outage are added, so failures counted there still count.
   */
  async peek(key: string): Promise<WindowCount> {
    const local = this.local.peek(key);
    try {
      const fullKey = this.prefix + key;
      const [hits, ttl] = await this.inRedis(() => Promise.all([this.deps.redis.get(fullKey), this.deps.redis.pttl(fullKey)]));
      // Each hit was counted in exactly one place, so the two add up.
      return { hits: Number(hits ?? 0) + local.hits, resetMs: Math.max(ttl > 0 ? ttl : 0, local.hits > 0 ? local.resetMs : 0) };
    } catch (err) {
      this.fellBack(err);
      return local;
    }
  }

  private inRedis<T>(work: () => Promise<T>): Promise<T> {
    return withRedisDeadline(this.deps.redis, this.deps.config.ENQUEUE_TIMEOUT_MS, work);
  }

  private fellBack(err: unknown): void {
    this.onFallback = true;
    this.fallbacksSinceLog += 1;
    const now = Date.now();
    if (now - this.lastFallbackLogAt < this.windowMs) return;
    const cause = err as Error & { cause?: Error };
    this.deps.logger.warn(
      { limiter: this.name, err: (cause.cause ?? cause).message, fallbacks: this.fallbacksSinceLog },
      'rate limiter cannot use Redis; counting in this process (logged once per window)',
    );
    this.lastFallbackLogAt = now;
    this.fallbacksSinceLog = 0;
  }

  // Not logged again within a window of the last fallback line: a Redis at its maxmemory accepts a write
  // now and then (whenever something frees memory), and the log must not flap with it.
  private backOnRedis(): void {
    if (!this.onFallback) return;
    this.onFallback = false;
    if (Date.now() - this.lastFallbackLogAt < this.windowMs) return;
    this.deps.logger.info({ limiter: this.name }, 'rate limiter counts in Redis again');
  }
}
