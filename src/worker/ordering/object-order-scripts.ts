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
 * Whether a queue-time lease (`queued` set: granted by the register script, see there) still stands: while its
 * job waits it never expires; once the job started, it lasts as long as BullMQ's lock on the job (renewed by the
 * worker, lost WORKER_LOCK_DURATION_MS after the worker died); before the job exists (the mover adds it right
 * after registering) it lasts until `until`.
 */
const QUEUED_LEASE_HELD = `
local function queuedLeaseHeld(jobKey, untilMs, now)
  if redis.call('EXISTS', jobKey) == 0 then return untilMs > now end
  if redis.call('HEXISTS', jobKey, 'finishedOn') == 1 then return false end
  if redis.call('HEXISTS', jobKey, 'processedOn') == 0 then return true end
  return redis.call('EXISTS', jobKey .. ':lock') == 1
end
`;

/**
 * Registers events as waiting for their objects, as the intake mover queues them (ZADD NX: a member keeps its
 * first score), and grants the lease at queue time to an event alone on its object (nobody else waiting, no
 * holder): its job then carries the fence and runs without an acquire. The lease is marked `queued` (see
 * QUEUED_LEASE_HELD for how long it lasts). An older event of the object registered before the granted job
 * started takes the grant back: the job's data loses its `grant` (the job then acquires as any other), and the
 * lease is freed (a grant of this same batch is simply not returned). A grant whose job is not queued yet by
 * another mover (its batch in flight), or whose job started already, stands: the older event runs after it,
 * told it is out of order.
 * ARGV: base, ttlSeconds, jobKeyPrefix, leaseMs, then per event: objectId, created, member.
 * Returns per event {fence, outOfOrder} when it holds a queue-time lease at the end of the batch, else {0, 0}.
 */
export const REGISTER_SCRIPT = `${HELPERS}
local base, ttl, jobPrefix, leaseMs = ARGV[1], tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4])
local statsKey = base .. ':stats'
local now = nowMs()
local inBatch = {}
for i = 5, #ARGV, 3 do inBatch[ARGV[i + 2]] = true end
local grantedNow = {}
local function takeBack(objKey, holder)
  local jobKey = jobPrefix .. jobIdOf(holder)
  local queued = redis.call('EXISTS', jobKey) == 1
  if queued and redis.call('HEXISTS', jobKey, 'processedOn') == 1 then return false end
  if not queued and not inBatch[holder] then return false end
  local data = queued and cjson.decode(redis.call('HGET', jobKey, 'data'))
  if type(data) == 'table' and type(data.grant) == 'table' then
    if data.grant.outOfOrder == true then redis.call('HINCRBY', statsKey, 'outOfOrder', -1) end
    data.grant = nil
    redis.call('HSET', jobKey, 'data', cjson.encode(data))
  end
  redis.call('HDEL', objKey, 'holder', 'until', 'queued')
  return true
end
for i = 5, #ARGV, 3 do
  local obj, created, member = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local objKey, waitKey = base .. ':obj:' .. obj, base .. ':wait:' .. obj
  redis.call('ZADD', waitKey, 'NX', created, member)
  redis.call('EXPIRE', waitKey, ttl)
  local seen = redis.call('HMGET', objKey, 'holder', 'queued')
  if seen[1] and seen[1] ~= member and seen[2] == '1' then
    local mine, theirs = redis.call('ZRANK', waitKey, member), redis.call('ZRANK', waitKey, seen[1])
    if theirs and mine < theirs and takeBack(objKey, seen[1]) then seen[1] = false end
  end
  if not seen[1] and redis.call('ZCARD', waitKey) == 1 then
    redis.call('HINCRBY', objKey, 'fence', 1)
    redis.call('HSET', objKey, 'holder', member, 'until', now + leaseMs, 'queued', '1')
    redis.call('EXPIRE', objKey, ttl)
    grantedNow[member] = true
  end
end
local grants = {}
for i = 5, #ARGV, 3 do
  local obj, created, member = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local seen = redis.call('HMGET', base .. ':obj:' .. obj, 'holder', 'queued', 'fence', 'lastCreated', 'lastId')
  if seen[1] == member and seen[2] == '1' then
    local outOfOrder = 0
    if seen[4] then
      local lastCreated, c = tonumber(seen[4]), tonumber(created)
      if lastCreated > c or (lastCreated == c and seen[5] > eventIdOf(member)) then outOfOrder = 1 end
    end
    -- Counted once, when granted (a repeat of the batch after a crash finds the grant and does not count it).
    if outOfOrder == 1 and grantedNow[member] then redis.call('HINCRBY', statsKey, 'outOfOrder', 1) end
    grants[#grants + 1] = {tonumber(seen[3]), outOfOrder}
  else
    grants[#grants + 1] = {0, 0}
  end
end
return grants
`;

/**
 * Grants the object's lease to `member` when it is the oldest event waiting for the object (entries whose job
 * is gone or finished are dropped on the way) and the lease is free, expired (a queue-time lease: no longer
 * held, see QUEUED_LEASE_HELD), or already this member's (the stalled run of the same job, started again, or a
 * job whose queue-time grant it does not use). ARGV: base, objectId, member, created, leaseMs, jobKeyPrefix, ttlSeconds.
 * Returns {1, fence, outOfOrder (1 when an event created after this one was processed already), how many others wait} or
 * {0, reason ('older' | 'held'), place in line (1: next after the head)}.
 */
export const ACQUIRE_SCRIPT = `${HELPERS}${QUEUED_LEASE_HELD}
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
local seen = redis.call('HMGET', objKey, 'holder', 'until', 'lastCreated', 'lastId', 'queued')
if seen[1] and seen[1] ~= member then
  local held
  if seen[5] == '1' then held = queuedLeaseHeld(jobPrefix .. jobIdOf(seen[1]), tonumber(seen[2]), now)
  else held = tonumber(seen[2]) > now end
  if held then
    redis.call('HINCRBY', statsKey, 'leaseWaits', 1)
    return {0, 'held', 0}
  end
end
local fence = redis.call('HINCRBY', objKey, 'fence', 1)
redis.call('HSET', objKey, 'holder', member, 'until', now + leaseMs)
redis.call('HDEL', objKey, 'queued')
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
redis.call('HDEL', objKey, 'holder', 'until', 'queued')
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
