import type { Redis } from 'ioredis';

/**
 * The record an Idempotency-Key leaves in Redis: the job it stands for and the SHA-256 of the body it was
 * first used with. `state: 'claimed'` until the job's add is known to have succeeded. The JSON shape is
 * the one earlier releases wrote (they ignore `state`), so instances of both can run side by side.
 */
export interface IdempotencyRecord {
  jobId: string;
  hash: string;
  state?: 'claimed';
}

export type Claim =
  /** This request claimed the key: it must add the job, then confirm. */
  | { outcome: 'claimed'; record: IdempotencyRecord; raw: string }
  /** Same key, same body, job added and confirmed: a replay. */
  | { outcome: 'replayed'; record: IdempotencyRecord; raw: string }
  /**
   * Same key, same body, but the claimer has not confirmed its add: it is still adding, or its add
   * failed (a Redis timeout, a crash). Adding the job again with the record's job id and this (identical)
   * body is safe either way: BullMQ ignores an add whose id exists.
   */
  | { outcome: 'unconfirmed'; record: IdempotencyRecord; raw: string }
  /** Same key, another body. */
  | { outcome: 'reused' };

// Claim or compare, in one script, so whatever the interleaving across instances exactly one body wins a
// key; a different body can never slip in between a read and a write.
const CLAIM_SCRIPT = `
local current = redis.call('GET', KEYS[1])
if not current then
  redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
  return {'claimed', ARGV[2]}
end
local record = cjson.decode(current)
if record.hash ~= ARGV[1] then return {'reused', ''} end
if record.state == 'claimed' then return {'unconfirmed', current} end
return {'replayed', current}
`;

// Compare-and-set: confirms only the claim this request saw (not a later one after the record expired).
const CONFIRM_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL') return 1 end
return 0
`;

type IdempotencyRedis = Redis & {
  hooklaneIdempotencyClaim(key: string, hash: string, claimed: string, ttlSeconds: number): Promise<[Claim['outcome'], string]>;
  hooklaneIdempotencyConfirm(key: string, claimed: string, confirmed: string): Promise<number>;
};

function scripted(redis: Redis): IdempotencyRedis {
  if (!('hooklaneIdempotencyClaim' in redis)) {
    redis.defineCommand('hooklaneIdempotencyClaim', { numberOfKeys: 1, lua: CLAIM_SCRIPT });
    redis.defineCommand('hooklaneIdempotencyConfirm', { numberOfKeys: 1, lua: CONFIRM_SCRIPT });
  }
  return redis as IdempotencyRedis;
}

/** Claims `key` for `candidate` (a fresh job id and the body's hash) unless it is already held. */
export async function claimIdempotencyKey(
  redis: Redis,
  key: string,
  candidate: { jobId: string; hash: string },
  ttlSeconds: number,
): Promise<Claim> {
  const claimed = JSON.stringify({ jobId: candidate.jobId, hash: candidate.hash, state: 'claimed' } satisfies IdempotencyRecord);
  const [outcome, raw] = await scripted(redis).hooklaneIdempotencyClaim(key, candidate.hash, claimed, ttlSeconds);
  if (outcome === 'reused') return { outcome };
  return { outcome, record: JSON.parse(raw) as IdempotencyRecord, raw };
}

/** Marks a claim as done once its job is stored: later replays answer with the job id and add nothing. */
export async function confirmIdempotencyKey(redis: Redis, key: string, claimedRaw: string, record: IdempotencyRecord): Promise<void> {
  await scripted(redis).hooklaneIdempotencyConfirm(key, claimedRaw, JSON.stringify({ jobId: record.jobId, hash: record.hash }));
}
