import type { Redis } from 'ioredis';

/** BullMQ's lowest priority (2^21): beyond it every event of an account shares it. */
export const LOWEST_PRIORITY = 2_097_152;

/**
 * Counts each account's events in the current window (Redis's clock, so every mover shares it) and returns,
 * per account, how many it had before this call. ARGV: base, windowSeconds, then account/count pairs.
 */
const COUNT_SCRIPT = `
local base, window = ARGV[1], tonumber(ARGV[2])
local bucket = math.floor(tonumber(redis.call('TIME')[1]) / window)
local before = {}
for i = 3, #ARGV, 2 do
  local key = base .. ':fair:' .. ARGV[i] .. ':' .. bucket
  local n = redis.call('INCRBY', key, ARGV[i + 1])
  redis.call('EXPIRE', key, window * 2)
  before[#before + 1] = n - tonumber(ARGV[i + 1])
end
return before
`;

export interface AccountFairnessOptions {
  base: string;
  /** Events of one account per window that share a priority level: the first `step` get priority 1. */
  step: number;
  windowSeconds: number;
}

type FairRedis = Redis & { hooklaneFairCount(...args: (string | number)[]): Promise<number[]> };

/** Events without an account (the platform's own) are counted as one account. */
const PLATFORM = 'platform';

/**
 * Fairness between connected accounts through BullMQ priorities: an account's n-th event in the current window
 * is queued with priority 1 + floor(n / step). BullMQ serves lower numbers first and, within one, in order, so
 * a quiet account's events (fewer than `step` a window: priority 1) pass every job of a noisy account past its
 * first `step`, however large its backlog. Within an account the order is kept except across a window boundary
 * (a new window starts at priority 1 again); per-object order does not depend on it (the waiting sets keep it).
 */
export class AccountFairness {
  private readonly redis: FairRedis;

  constructor(redis: Redis, private readonly options: AccountFairnessOptions) {
    if (!('hooklaneFairCount' in redis)) redis.defineCommand('hooklaneFairCount', { numberOfKeys: 0, lua: COUNT_SCRIPT });
    this.redis = redis as FairRedis;
  }

  /** One priority per event, in the order given: one script and one round trip for the batch. */
  async priorities(accounts: readonly (string | null)[]): Promise<number[]> {
    const counts = new Map<string, number>();
    for (const account of accounts) counts.set(account ?? PLATFORM, (counts.get(account ?? PLATFORM) ?? 0) + 1);
    const args: (string | number)[] = [this.options.base, this.options.windowSeconds];
    for (const [account, count] of counts) args.push(account, count);
    const before = await this.redis.hooklaneFairCount(...args);
    const next = new Map<string, number>();
    [...counts.keys()].forEach((account, i) => next.set(account, Number(before[i] ?? 0)));
    return accounts.map((account) => {
      const n = next.get(account ?? PLATFORM)!;
      next.set(account ?? PLATFORM, n + 1);
      return Math.min(LOWEST_PRIORITY, 1 + Math.floor(n / this.options.step));
    });
  }
}
