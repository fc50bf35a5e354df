/**
 * Lua scripts of per-object ordering (object-order.ts). Per Stripe object there is a hash (`obj:<id>`: the
 * lease's holder and expiry, the fencing counter, the newest event processed) and a sorted set of the events
 * waiting for it (`wait:<id>`: scored by Stripe's `created`, members `<eventId> <jobId>`, so equal scores sort
 * by event id: a space sorts before every character of an id). Times are Redis's clock (one for every worker).
 * The acquire script reads the waiting head's BullMQ job hash (to drop an entry whose job is gone or finished),
 * so the ordering keys must live beside the queue's: same prefix, and in a cluster the same hash tag.
 */

/** Shared helpers: Redis's time in ms, the event id of a member, the stats counter. */
const HELPERS = `
local function nowMs()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function eventIdOf(member)
  return string.sub(member, 1, string.find(member, ' ', 1, true) - 1)
end
local function jobIdOf(member)
  return string.sub(member, string.find(member, ' ', 1, true) + 1)
end
`;

/** How many stale heads (job gone or finished) one acquire drops at most: the work of one call stays bounded. */
export const MAX_STALE_DROPS = 20;

/**
 * Registers events as waiting for their objects, as the intake mover queues them (ZADD NX: a member keeps its
 * first score). ARGV: base, ttlSeconds, then per event: objectId, created, member.
 */
export const REGISTER_SCRIPT = `
local base, ttl = ARGV[1], tonumber(ARGV[2])
for i = 3, #ARGV, 3 do
  local key = base .. ':wait:' .. ARGV[i]
  redis.call('ZADD', key, 'NX', ARGV[i + 1], ARGV[i + 2])
  redis.call('EXPIRE', key, ttl)
end
return 1
`;

/**
 * Grants the object's lease to `member` when it is the oldest event waiting for the object (entries whose job
 * is gone or finished are dropped on the way) and the lease is free, expired, or already this member's (the
 * stalled run of the same job, started again). ARGV: base, objectId, member, created, leaseMs, jobKeyPrefix, ttlSeconds.
 * Returns {1, fence, outOfOrder (1 when an event created after this one was processed already), how many others wait} or
 * {0, reason ('older' | 'held'), place in line (1: next after the head)}.
 */
export const ACQUIRE_SCRIPT = `${HELPERS}
local base, obj, member, created = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local leaseMs, jobPrefix, ttl = tonumber(ARGV[5]), ARGV[6], tonumber(ARGV[7])
local objKey, waitKey, statsKey = base .. ':obj:' .. obj, base .. ':wait:' .. obj, base .. ':stats'
redis.call('ZADD', waitKey, 'NX', created, member)
redis.call('EXPIRE', waitKey, ttl)
local isHead = false
for _ = 1, ${MAX_STALE_DROPS} do
  local head = redis.call('ZRANGE', waitKey, 0, 0)[1]
  if head == member then isHead = true break end
  local jobKey = jobPrefix .. jobIdOf(head)
  if redis.call('EXISTS', jobKey) == 1 and redis.call('HEXISTS', jobKey, 'finishedOn') == 0 then
    redis.call('HINCRBY', statsKey, 'leaseWaits', 1)
    return {0, 'older', redis.call('ZRANK', waitKey, member)}
  end
  redis.call('ZREM', waitKey, head)
end
if not isHead then return {0, 'older', 1} end
local now = nowMs()
local seen = redis.call('HMGET', objKey, 'holder', 'until', 'lastCreated', 'lastId')
if seen[1] and seen[1] ~= member and tonumber(seen[2]) > now then
  redis.call('HINCRBY', statsKey, 'leaseWaits', 1)
  return {0, 'held', 0}
end
local fence = redis.call('HINCRBY', objKey, 'fence', 1)
redis.call('HSET', objKey, 'holder', member, 'until', now + leaseMs)
redis.call('EXPIRE', objKey, ttl)
local outOfOrder = 0
if seen[3] then
  local lastCreated, mine = tonumber(seen[3]), tonumber(created)
  if lastCreated > mine or (lastCreated == mine and seen[4] > eventIdOf(member)) then outOfOrder = 1 end
end
if outOfOrder == 1 then redis.call('HINCRBY', statsKey, 'outOfOrder', 1) end
return {1, fence, outOfOrder, redis.call('ZCARD', waitKey) - 1}
`;

/** Extends the lease while its holder runs. ARGV: base, objectId, member, fence, leaseMs. Returns 1, or 0 when it was lost. */
export const RENEW_SCRIPT = `${HELPERS}
local objKey = ARGV[1] .. ':obj:' .. ARGV[2]
local seen = redis.call('HMGET', objKey, 'holder', 'fence')
if seen[1] ~= ARGV[3] or seen[2] ~= ARGV[4] then return 0 end
redis.call('HSET', objKey, 'until', nowMs() + tonumber(ARGV[5]))
return 1
`;

/**
 * Ends a run. ARGV: base, objectId, member, fence, outcome, created.
 * Outcomes: `done` (the event was processed: it leaves the waiting set and becomes the newest processed if it
 * is), `superseded` and `failed` (it leaves the waiting set), `retry` (it stays at the head: its retry runs
 * before any newer event of the object). Only the run holding this fence frees the lease; a run that lost it
 * (it expired and the same job runs again) changes nothing. Returns {1 or 0 (held it), the new head's job id or ''}.
 */
export const RELEASE_SCRIPT = `${HELPERS}
local base, obj, member, fence, outcome, created = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local objKey, waitKey = base .. ':obj:' .. obj, base .. ':wait:' .. obj
local seen = redis.call('HMGET', objKey, 'holder', 'fence', 'lastCreated', 'lastId')
if seen[1] ~= member or seen[2] ~= fence then return {0, ''} end
redis.call('HDEL', objKey, 'holder', 'until')
if outcome ~= 'retry' then redis.call('ZREM', waitKey, member) end
if outcome == 'done' then
  local lastCreated, mine, id = tonumber(seen[3]), tonumber(created), eventIdOf(member)
  if not lastCreated or mine > lastCreated or (mine == lastCreated and id > seen[4]) then
    redis.call('HSET', objKey, 'lastCreated', created, 'lastId', id)
  end
elseif outcome == 'superseded' then
  redis.call('HINCRBY', base .. ':stats', 'superseded', 1)
end
local head = redis.call('ZRANGE', waitKey, 0, 0)[1]
if not head then return {1, ''} end
return {1, jobIdOf(head)}
`;
