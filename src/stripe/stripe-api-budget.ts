import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import Stripe from 'stripe';

// Stripe answers 429 for requests over its limit in a second. This log holds, for each request, the latest
// moment it can have reached Stripe, on Redis's clock (TIME, one for every process): its send plus
// SEND_DELAY_BOUND_MS (ARGV[4]) while in flight, its answer when that came sooner (BUDGET_RELEASE_SCRIPT).
// A request goes out only when fewer than `limit` (ARGV[2]) are within the last second (ARGV[1]) and no 429
// pause is on. So a request's latency costs the fleet at most the bound, not the whole round trip. Its
// entry (ARGV[3]) is what a 429 takes back. Answers 0 (send now, counted), > 0 (ms until the log has room)
// or < 0 (a 429 pause is on for that long).
const NOW_AND_SEND_IF_ROOM = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local function send()
  local paused = redis.call('PTTL', KEYS[2])
  if paused > 0 then return -paused end
  local window = tonumber(ARGV[1])
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
  if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
    local oldest = tonumber(redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2])
    return math.max(1, math.ceil(oldest + window - now))
  end
  redis.call('ZADD', KEYS[1], string.format('%.3f', now + tonumber(ARGV[4])), ARGV[3])
  redis.call('PEXPIRE', KEYS[1], math.ceil(window + tonumber(ARGV[4])) + 1000)
  redis.call('HINCRBY', KEYS[3], 'sent', 1)
  return 0
end
`;

/**
 * The answer came: Stripe saw the request by now, so its entry counts from now if that is sooner than the
 * bound. Also sums what the bench reports (the wait for a turn, the time to the answer).
 */
export const BUDGET_RELEASE_SCRIPT = `
local t = redis.call('TIME')
redis.call('ZADD', KEYS[1], 'XX', 'LT', string.format('%.3f', tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000), ARGV[1])
redis.call('HINCRBY', KEYS[3], 'answered', 1)
redis.call('HINCRBY', KEYS[3], 'waitMs', ARGV[2])
redis.call('HINCRBY', KEYS[3], 'requestMs', ARGV[3])
return 1
`;

/**
 * Paces the fleet, one turn every window / limit ms: each call reserves the next free turn (GCRA's
 * theoretical arrival time, KEYS[4]), so a caller that must wait sleeps until its own turn instead of
 * polling with every other waiter, and the log above rarely has to refuse (ARGV[5]: the turns' window, a
 * little longer than the log's). Answers -(the wait) when the turn is further away than the caller may
 * wait (ARGV[6]; nothing reserved); 0 when the turn is now and
 * the request was counted; else the ms to sleep before BUDGET_SEND_SCRIPT.
 */
export const BUDGET_ACQUIRE_SCRIPT = `${NOW_AND_SEND_IF_ROOM}
local at = math.max(now, tonumber(redis.call('GET', KEYS[4]) or 0))
local wait = math.ceil(at - now)
if wait > tonumber(ARGV[6]) then return -wait end
local interval = tonumber(ARGV[5]) / tonumber(ARGV[2])
redis.call('SET', KEYS[4], string.format('%.3f', at + interval), 'PX', wait + math.ceil(interval) + 1000)
if wait > 0 then return wait end
return math.abs(send())
`;

/** At a caller's turn: 0 (send now, counted), > 0 (ms until the log has room), < 0 (a 429 pause is on). */
export const BUDGET_SEND_SCRIPT = `${NOW_AND_SEND_IF_ROOM}
return send()
`;

/**
 * A 429: the request is taken out of the log (Stripe served nothing), every process pauses for `pauseMs`,
 * and the schedule restarts after the pause: no turn is handed out inside it.
 */
export const BUDGET_GIVE_BACK_SCRIPT = `
redis.call('ZREM', KEYS[1], ARGV[1])
local pause = tonumber(ARGV[2])
if redis.call('PTTL', KEYS[2]) < pause then redis.call('SET', KEYS[2], '1', 'PX', pause) end
local t = redis.call('TIME')
local resume = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000 + pause
if (tonumber(redis.call('GET', KEYS[4]) or 0)) < resume then
  redis.call('SET', KEYS[4], string.format('%.3f', resume), 'PX', pause + 1000)
end
redis.call('HINCRBY', KEYS[3], 'rateLimited', 1)
return 1
`;

type BudgetKeys = [log: string, pause: string, stats: string, next: string];
type BudgetRedis = Redis & {
  hooklaneBudgetAcquire(...args: [...BudgetKeys, windowMs: number, limit: number, member: string, delayBoundMs: number, turnWindowMs: number, maxWaitMs: number]): Promise<number>;
  hooklaneBudgetSend(...args: [...BudgetKeys, windowMs: number, limit: number, member: string, delayBoundMs: number]): Promise<number>;
  hooklaneBudgetRelease(...args: [...BudgetKeys, member: string, waitMs: number, requestMs: number]): Promise<number>;
  hooklaneBudgetGiveBack(...args: [...BudgetKeys, member: string, pauseMs: number]): Promise<number>;
};

export interface StripeApiBudgetOptions {
  /** Requests per second for the whole fleet. */
  perSecond: number;
  keyPrefix: string;
  /** How long one call may wait for its turn before it fails (transiently: the job retries later). */
  maxWaitMs?: number;
  /** 429s in a row one call takes before it fails (transiently). */
  maxRateLimited?: number;
  /** SEND_DELAY_BOUND_MS unless set (STRIPE_API_SEND_DELAY_BOUND_MS). */
  sendDelayBoundMs?: number;
}

/** What the console shows: the limit, the requests sent in the last second, and the totals. */
export interface StripeApiBudgetUsage {
  perSecond: number;
  inUse: number;
  paused: boolean;
  sent: number;
  rateLimited: number;
}

/** A call whose turn would come later than it may wait: transient, the job retries with backoff. */
export class StripeBudgetExhausted extends Error {
  constructor(waitMs: number, maxWaitMs: number) {
    super(`the shared Stripe API budget's next free turn is ${waitMs} ms away, more than the ${maxWaitMs} ms this call may wait`);
    this.name = 'StripeBudgetExhausted';
  }
}

/**
 * How long after its send a request is assumed to have reached Stripe at the latest, when its answer
 * has not come sooner: the reply from Redis, the sender's event loop, the network to Stripe. A request
 * answered within it is counted exactly (from its answer); a slower one is safe while its delay on the way
 * in stays within it. It costs each request min(its latency, this) of its second. Why 50 ms: docs/stripe.md.
 */
export const SEND_DELAY_BOUND_MS = 50;
// Stripe's second, plus rounding to whole ms on both sides.
const WINDOW_MS = 1002;
/**
 * Turns are handed out this much slower than the log frees room for a request slower than the bound,
 * so a caller who takes its turn a little late (its timer, its event loop) does not find the log full
 * and wait again. Together (with the default bound): one turn every 1,072 ms / limit, 93 % of the limit.
 */
const TURN_SLACK_MS = 20;
const PAUSE_AFTER_429_MS = 1000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function isRateLimited(err: unknown): boolean {
  return err instanceof Stripe.errors.StripeRateLimitError || (err as { statusCode?: unknown } | null)?.statusCode === 429;
}

/**
 * The Stripe API budget shared by every worker through Redis (STRIPE_API_REQUESTS_PER_SECOND). Every
 * request to Stripe goes through `run`, one turn per HTTP request: the Stripe client it wraps must not
 * retry on its own (maxNetworkRetries 0), or its retries would go out unbudgeted.
 */
export class StripeApiBudget {
  private readonly redis: BudgetRedis;
  private readonly keys: BudgetKeys;
  private readonly owner = randomBytes(6).toString('hex');
  private counter = 0;
  private readonly sendDelayBoundMs: number;
  private readonly turnWindowMs: number;

  constructor(
    redis: Redis,
    private readonly options: StripeApiBudgetOptions,
  ) {
    if (!('hooklaneBudgetAcquire' in redis)) {
      redis.defineCommand('hooklaneBudgetAcquire', { numberOfKeys: 4, lua: BUDGET_ACQUIRE_SCRIPT });
      redis.defineCommand('hooklaneBudgetSend', { numberOfKeys: 4, lua: BUDGET_SEND_SCRIPT });
      redis.defineCommand('hooklaneBudgetRelease', { numberOfKeys: 4, lua: BUDGET_RELEASE_SCRIPT });
      redis.defineCommand('hooklaneBudgetGiveBack', { numberOfKeys: 4, lua: BUDGET_GIVE_BACK_SCRIPT });
    }
    this.redis = redis as BudgetRedis;
    const base = `${options.keyPrefix}:{stripe-budget}`;
    this.keys = [`${base}:window`, `${base}:pause`, `${base}:stats`, `${base}:next`];
    this.sendDelayBoundMs = options.sendDelayBoundMs ?? SEND_DELAY_BOUND_MS;
    this.turnWindowMs = WINDOW_MS + this.sendDelayBoundMs + TURN_SLACK_MS;
  }

  /** Runs `request` at its turn; on a 429, gives the turn back, backs off and tries again. */
  async run<T>(request: () => Promise<T>): Promise<T> {
    const maxRateLimited = this.options.maxRateLimited ?? 8;
    for (let attempt = 1; ; attempt += 1) {
      const asked = Date.now();
      const member = await this.acquire();
      const sent = Date.now();
      let answer: T;
      try {
        answer = await request();
      } catch (err) {
        if (!isRateLimited(err)) {
          await this.redis.hooklaneBudgetRelease(...this.keys, member, sent - asked, Date.now() - sent);
          throw err;
        }
        await this.redis.hooklaneBudgetGiveBack(...this.keys, member, PAUSE_AFTER_429_MS);
        if (attempt >= maxRateLimited) throw err;
        // Exponential with jitter on top of the fleet-wide pause, so the retries do not all land at once.
        await sleep(Math.min(8000, 250 * 2 ** (attempt - 1)) * (0.5 + Math.random()));
        continue;
      }
      await this.redis.hooklaneBudgetRelease(...this.keys, member, sent - asked, Date.now() - sent);
      return answer;
    }
  }

  /** Waits for this call's turn and counts its request as sent; resolves to its member of the log (for giving it back). */
  private async acquire(): Promise<string> {
    const maxWaitMs = this.options.maxWaitMs ?? 60_000;
    const { perSecond } = this.options;
    const started = Date.now();
    for (;;) {
      const member = `${this.owner}:${(this.counter += 1)}`;
      let wait = await this.redis.hooklaneBudgetAcquire(...this.keys, WINDOW_MS, perSecond, member, this.sendDelayBoundMs, this.turnWindowMs, maxWaitMs - (Date.now() - started));
      if (wait < 0) throw new StripeBudgetExhausted(-wait, maxWaitMs);
      // No jitter on the sleeps: every caller holds a turn of its own.
      while (wait > 0) {
        if (Date.now() - started + wait > maxWaitMs) throw new StripeBudgetExhausted(wait, maxWaitMs);
        await sleep(wait);
        wait = await this.redis.hooklaneBudgetSend(...this.keys, WINDOW_MS, perSecond, member, this.sendDelayBoundMs);
      }
      if (wait === 0) return member;
      // A 429 paused the fleet while this caller slept: its turn is gone, and it takes one after the pause.
    }
  }

  async usage(): Promise<StripeApiBudgetUsage> {
    const [log, pause, stats] = this.keys;
    const now = Date.now();
    // A pipeline, not MULTI: Redis refuses a transaction when it is out of memory, and the console must
    // still show the overview then (operators free memory from it).
    const results = await this.redis
      .pipeline()
      .zcount(log, now - 1000, '+inf') // in flight, or reached Stripe within the last second
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
