/**
 * The dedup window: every event id hooklane accepted, remembered for DEDUP_WINDOW_HOURS after the event was
 * created, whatever the volume, at a few dozen bytes an id (docs/numbers.md). Independent of the event
 * index's records and payloads, which are trimmed by count, age and bytes.
 *
 * Layout: ids live in Redis hashes bucketed by the hour the event was created (`created` is signed by
 * Stripe and identical on every redelivery, so a delivery looks in exactly one bucket, never scans 96),
 * sharded inside the hour by a hash of the id so each bucket stays a listpack (Redis's compact encoding,
 * at most `hash-max-listpack-entries` fields: 512 by default in Redis 7 and ElastiCache, and 64 a bucket on
 * average stays within even 128, the zset default some configs copy). The field is the id without `evt_`, the
 * value empty. The hour's number of shards is fixed when its first id is written, from how many ids the
 * previous hour got (64 per bucket on average, at least 16 buckets), and kept in the hour's meta hash
 * (`s`, with the hour's count `n`): a redelivery finds the same bucket. A burst far above the previous
 * hour's rate still deduplicates, its buckets just leave the listpack encoding and cost more for that hour.
 * Every key of an hour expires at the end of the hour + the window (EXPIREAT, Redis's clock).
 *
 * An event created too long ago for its hour's bucket to outlive the next hour (reconciled from Stripe's
 * 30-day list, a resend from the dashboard), created more than an hour in the future (clock skew beyond
 * reason), or without `created` is remembered in the bucket of the hour it arrived instead; the event
 * index's record is checked as well (the intake scripts), which recognises it for as long as the record
 * is kept.
 */

/** Ids per bucket the shard count aims at, on average (the listpack limit is 128). */
export const DEDUP_IDS_PER_BUCKET = 64;
export const DEDUP_MIN_SHARDS = 16;
export const DEDUP_MAX_SHARDS = 65_536;

/**
 * `remember(prefix, hour, field, hash, expireAt)`: true when the id was new (and is now remembered), false
 * when the hour's bucket had it. Shared by the intake scripts and the bench's bytes-per-id row.
 */
export const DEDUP_REMEMBER_LUA = `
local function remember(prefix, hour, field, hash, expireAt)
  local meta = prefix .. ':' .. hour
  local shards = tonumber(redis.call('HGET', meta, 's'))
  if not shards then
    local previous = tonumber(redis.call('HGET', prefix .. ':' .. (tonumber(hour) - 1), 'n')) or 0
    shards = ${DEDUP_MIN_SHARDS}
    while shards * ${DEDUP_IDS_PER_BUCKET} < previous and shards < ${DEDUP_MAX_SHARDS} do shards = shards * 2 end
    redis.call('HSET', meta, 's', shards)
    redis.call('EXPIREAT', meta, expireAt)
  end
  local bucket = meta .. ':' .. (tonumber(hash) % shards)
  if redis.call('HSETNX', bucket, field, '') == 0 then return false end
  if redis.call('HLEN', bucket) == 1 then redis.call('EXPIREAT', bucket, expireAt) end
  redis.call('HINCRBY', meta, 'n', 1)
  return true
end
`;

/** Where one id is remembered: the script's ARGV for `remember` (hour, field, hash, expireAt). */
export interface DedupSlot {
  hour: string;
  field: string;
  hash: string;
  expireAt: string;
}

/** FNV-1a, 32 bits: spreads ids over an hour's shards (not a security property; ids are Stripe's). */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/**
 * The slot of `id` for an event created at `createdSeconds` (null: unknown), arriving at `nowMs`.
 * The created hour's bucket expires at its end + the window, so every delivery that arrives within
 * `windowHours` of `created` finds it.
 */
export function dedupSlot(id: string, createdSeconds: number | null, windowHours: number, nowMs = Date.now()): DedupSlot {
  const nowHour = Math.floor(nowMs / 3_600_000);
  let hour = nowHour;
  if (createdSeconds !== null && Number.isFinite(createdSeconds)) {
    const createdHour = Math.floor(createdSeconds / 3600);
    // Too old: its bucket would be gone within the hour. Too far ahead: no clock is that wrong.
    const late = createdHour + 1 + windowHours <= nowHour + 1;
    if (!late && createdHour <= nowHour + 1) hour = createdHour;
  }
  return {
    hour: String(hour),
    field: id.startsWith('evt_') ? id.slice(4) : id,
    hash: String(fnv1a(id)),
    expireAt: String((hour + 1 + windowHours) * 3600),
  };
}
