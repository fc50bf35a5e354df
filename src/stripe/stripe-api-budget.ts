import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import Stripe from 'stripe';

/**
 * One sliding-window log per fleet: a request may go out when fewer than `limit` slots are in the window
 * (Redis TIME, so every process shares one clock), and none while a 429 pause is on. Answers 0 when the
 * slot was taken, else how many ms to wait. A slot is stamped in the future (now + the request's timeout)
 * while its request is in flight and re-stamped when the answer came (BUDGET_RELEASE_SCRIPT): Stripe saw
 * the request somewhere in between, so counting a window from the answer can never put two requests
 * Stripe saw less than a window apart into different windows, however slow the network was.
 */
export const BUDGET_ACQUIRE_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local paused = redis.call('PTTL', KEYS[2])
if paused > 0 then return paused end
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[4]), ARGV[3])
  redis.call('PEXPIRE', KEYS[1], window + tonumber(ARGV[4]) * 2)
  redis.call('HINCRBY', KEYS[3], 'sent', 1)
  return 0
end
-- Full. Every slot still in flight (stamped in the future): one frees when its answer comes, any moment,
-- so look again soon; else when the oldest answered slot leaves the window.
local oldest = tonumber(redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2])
if oldest > now then return tonumber(ARGV[5]) end
return math.max(1, math.floor(oldest + window - now))
`;

/** The answer came: the slot counts from now for one window. */
export const BUDGET_RELEASE_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
return redis.call('ZADD', KEYS[1], 'XX', now, ARGV[1])
`;

/** A 429: the slot goes back (Stripe served nothing) and every process pauses for `pauseMs`. */
export const BUDGET_GIVE_BACK_SCRIPT = `
redis.call('ZREM', KEYS[1], ARGV[1])
if redis.call('PTTL', KEYS[2]) < tonumber(ARGV[2]) then redis.call('SET', KEYS[2], '1', 'PX', ARGV[2]) end
redis.call('HINCRBY', KEYS[3], 'rateLimited', 1)
return 1
`;

type BudgetRedis = Redis & {
  hooklaneBudgetAcquire(
    window: string, pause: string, stats: string, limit: number, windowMs: number, member: string, inFlightMs: number, inFlightPollMs: number,
  ): Promise<number>;
  hooklaneBudgetRelease(window: string, member: string): Promise<number>;
  hooklaneBudgetGiveBack(window: string, pause: string, stats: string, member: string, pauseMs: number): Promise<number>;
};

export interface StripeApiBudgetOptions {
  /** Requests per second for the whole fleet. */
  perSecond: number;
  keyPrefix: string;
  /** How long one call may wait for a slot before it fails (transiently: the job retries later). */
  maxWaitMs?: number;
  /** 429s in a row one call takes before it fails (transiently). */
  maxRateLimited?: number;
  /** The longest a request can be in flight (the Stripe client's timeout): a slot of a process that died mid-request frees after it. */
  requestTimeoutMs?: number;
}

/** What the console shows: the limit, the slots taken in the last second, and the totals. */
export interface StripeApiBudgetUsage {
  perSecond: number;
  inUse: number;
  paused: boolean;
  sent: number;
  rateLimited: number;
}

/** A call that could not get a slot in time: transient, the job retries with backoff. */
export class StripeBudgetExhausted extends Error {
  constructor(waitedMs: number) {
    super(`the shared Stripe API budget had no free slot within ${waitedMs} ms`);
    this.name = 'StripeBudgetExhausted';
  }
}

// Stripe's second, plus rounding to whole ms on both sides.
const WINDOW_MS = 1010;
const PAUSE_AFTER_429_MS = 1000;
// How soon a caller looks again when every slot is in flight (one frees as soon as its answer comes).
const IN_FLIGHT_POLL_MS = 10;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function isRateLimited(err: unknown): boolean {
  return err instanceof Stripe.errors.StripeRateLimitError || (err as { statusCode?: unknown } | null)?.statusCode === 429;
}

/**
 * The Stripe API budget shared by every worker through Redis (STRIPE_API_REQUESTS_PER_SECOND). Every
 * request to Stripe goes through `run`, one slot per HTTP request: the Stripe client it wraps must not
 * retry on its own (maxNetworkRetries 0), or its retries would go out unbudgeted.
 */
export class StripeApiBudget {
  private readonly redis: BudgetRedis;
  private readonly keys: [window: string, pause: string, stats: string];
  private readonly owner = randomBytes(6).toString('hex');
  private counter = 0;

  constructor(
    redis: Redis,
    private readonly options: StripeApiBudgetOptions,
  ) {
    if (!('hooklaneBudgetAcquire' in redis)) {
      redis.defineCommand('hooklaneBudgetAcquire', { numberOfKeys: 3, lua: BUDGET_ACQUIRE_SCRIPT });
      redis.defineCommand('hooklaneBudgetGiveBack', { numberOfKeys: 3, lua: BUDGET_GIVE_BACK_SCRIPT });
      redis.defineCommand('hooklaneBudgetRelease', { numberOfKeys: 1, lua: BUDGET_RELEASE_SCRIPT });
    }
    this.redis = redis as BudgetRedis;
    const base = `${options.keyPrefix}:{stripe-budget}`;
    this.keys = [`${base}:window`, `${base}:pause`, `${base}:stats`];
  }

  /** Runs `request` once a slot is free; on a 429, gives the slot back, backs off and tries again. */
  async run<T>(request: () => Promise<T>): Promise<T> {
    const maxRateLimited = this.options.maxRateLimited ?? 8;
    for (let attempt = 1; ; attempt += 1) {
      const member = await this.acquire();
      let answer: T;
      try {
        answer = await request();
      } catch (err) {
        if (!isRateLimited(err)) {
          await this.redis.hooklaneBudgetRelease(this.keys[0], member);
          throw err;
        }
        await this.redis.hooklaneBudgetGiveBack(...this.keys, member, PAUSE_AFTER_429_MS);
        if (attempt >= maxRateLimited) throw err;
        // Exponential with jitter on top of the fleet-wide pause, so the retries do not all land at once.
        await sleep(Math.min(8000, 250 * 2 ** (attempt - 1)) * (0.5 + Math.random()));
        continue;
      }
      await this.redis.hooklaneBudgetRelease(this.keys[0], member);
      return answer;
    }
  }

  /** Waits for a slot; resolves to its member (for giving it back). */
  private async acquire(): Promise<string> {
    const maxWaitMs = this.options.maxWaitMs ?? 60_000;
    const started = Date.now();
    const member = `${this.owner}:${(this.counter += 1)}`;
    for (;;) {
      const wait = await this.redis.hooklaneBudgetAcquire(...this.keys, this.options.perSecond, WINDOW_MS, member, this.options.requestTimeoutMs ?? 30_000, IN_FLIGHT_POLL_MS);
      if (wait === 0) return member;
      const waited = Date.now() - started;
      if (waited + wait > maxWaitMs) throw new StripeBudgetExhausted(waited);
      // A little jitter: the processes that were told the same wait do not all come back in the same ms.
      await sleep(wait + Math.random() * 3);
    }
  }

  async usage(): Promise<StripeApiBudgetUsage> {
    const [window, pause, stats] = this.keys;
    const now = Date.now();
    // A pipeline, not MULTI: Redis refuses a transaction when it is out of memory, and the console must
    // still show the overview then (operators free memory from it).
    const results = await this.redis
      .pipeline()
      .zcount(window, now - WINDOW_MS, '+inf') // in flight, or answered within the last window
      .pttl(pause)
      .hmget(stats, 'sent', 'rateLimited')
      .exec();
    const [[, inUse], [, pttl], [, counts]] = results as [[null, number], [null, number], [null, (string | null)[]]];
    return {
      perSecond: this.options.perSecond,
      inUse: Number(inUse) || 0,
      paused: Number(pttl) > 0,
      sent: Number(counts?.[0]) || 0,
      rateLimited: Number(counts?.[1]) || 0,
    };
  }
}

/**
 * Concurrent requests for the same thing share one request (and one budget slot) in this process.
 * Across processes, a short Redis cache of the answer does the same (see stripe-fetcher).
 */
export class SingleFlight {
  private readonly inFlight = new Map<string, Promise<unknown>>();

  do<T>(key: string, request: () => Promise<T>): Promise<T> {
    const pending = this.inFlight.get(key) as Promise<T> | undefined;
    if (pending) return pending;
    const started = request().finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, started);
    return started;
  }
}
