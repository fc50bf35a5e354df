/**
 * Lua scripts of the event index. Each runs as one atomic step in one round trip. Keys are derived from
 * the base passed in ARGV; every key shares the base's hash tag, so they live in one cluster slot.
 */

// Adds `member` to an index set, then trims it by age (lexicographic: members start with the zero-padded
// receivedAt) and by count, and keeps the set alive only as long as it is written to.
const INDEX_HELPER = `
local function index(key, member, cutoff, max, ttl)
  redis.call('ZADD', key, 0, member)
  redis.call('ZREMRANGEBYLEX', key, '-', '(' .. cutoff)
  redis.call('ZREMRANGEBYRANK', key, 0, -(max + 1))
  redis.call('EXPIRE', key, ttl)
end
`;

/**
 * SET-NX of an event record. Returns 1 when this call created it, 0 when it already existed (a duplicate).
 * ARGV: base, id, member, cutoff, max, ttl, payload, then field/value pairs of the record.
 * A worker may have written status fields first (it can run before this lands); `receivedAt` marks a
 * record this script created, and the worker's status is kept.
 */
export const RECORD_EVENT_SCRIPT = `${INDEX_HELPER}
local base, id, member, cutoff = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local max, ttl = tonumber(ARGV[5]), tonumber(ARGV[6])
local rec = base .. ':rec:' .. id
if redis.call('HEXISTS', rec, 'receivedAt') == 1 then return 0 end
redis.call('HSET', rec, unpack(ARGV, 8))
redis.call('HSETNX', rec, 'status', 'queued')
redis.call('HSETNX', rec, 'attempts', '0')
redis.call('EXPIRE', rec, ttl)
redis.call('SET', base .. ':payload:' .. id, ARGV[7], 'EX', ttl)
local fields = redis.call('HMGET', rec, 'type', 'account', 'objectId', 'status')
local all = base .. ':idx:all'
redis.call('ZADD', all, 0, member)
redis.call('ZREMRANGEBYLEX', all, '-', '(' .. cutoff)
redis.call('EXPIRE', all, ttl)
index(base .. ':idx:type:' .. fields[1], member, cutoff, max, ttl)
if fields[2] and fields[2] ~= '' then index(base .. ':idx:account:' .. fields[2], member, cutoff, max, ttl) end
if fields[3] and fields[3] ~= '' then index(base .. ':idx:object:' .. fields[3], member, cutoff, max, ttl) end
-- Only failures have a status index (see FAILED_INDEX in event-index.ts); a worker may have failed it already.
if fields[4] == 'failed' then index(base .. ':idx:status:failed', member, cutoff, max, ttl) end
-- The count cap holds for records too, not only for the index: drop the oldest beyond it.
local extra = redis.call('ZCARD', all) - max
if extra > 0 then
  for _, old in ipairs(redis.call('ZRANGE', all, 0, extra - 1)) do
    local oldId = string.sub(old, 15)
    redis.call('DEL', base .. ':rec:' .. oldId, base .. ':payload:' .. oldId)
  end
  redis.call('ZREMRANGEBYRANK', all, 0, extra - 1)
end
return 1
`;

/**
 * Sets the status (and given fields) of one or more records, and keeps the failed index in step: a record
 * enters it when it fails and leaves it when a replay takes it elsewhere. Two small commands per record,
 * and the index is trimmed once per call, so the worker's batches stay cheap.
 * ARGV: base, cutoff, max, ttl, then the updates as one JSON array of [id, status, fields] (one argument
 * decoded in C rather than thousands of Lua strings).
 * Returns the previous status of each record (false where there was none).
 */
export const UPDATE_STATUSES_SCRIPT = `
local base, cutoff = ARGV[1], ARGV[2]
local max, ttl = tonumber(ARGV[3]), tonumber(ARGV[4])
local failedKey = base .. ':idx:status:failed'
local failedAdded, previous = false, {}
for n, update in ipairs(cjson.decode(ARGV[5])) do
  local id, status, fields = update[1], update[2], update[3]
  local rec = base .. ':rec:' .. id
  local old = redis.call('HMGET', rec, 'status', 'member')
  local hset = { 'status', status }
  for field, value in pairs(fields) do
    hset[#hset + 1] = field
    hset[#hset + 1] = value
  end
  redis.call('HSET', rec, unpack(hset))
  -- No status yet: the worker got here before the intake's record landed (the record script keeps this
  -- status), or the record is gone; either way the hash must not outlive the retention.
  if not old[1] then redis.call('EXPIRE', rec, ttl) end
  local member = old[2]
  if member and status == 'failed' then
    redis.call('ZADD', failedKey, 0, member)
    failedAdded = true
  elseif member and old[1] == 'failed' then
    redis.call('ZREM', failedKey, member)
  end
  previous[n] = old[1] or false
end
if failedAdded then
  redis.call('ZREMRANGEBYLEX', failedKey, '-', '(' .. cutoff)
  redis.call('ZREMRANGEBYRANK', failedKey, 0, -(max + 1))
  redis.call('EXPIRE', failedKey, ttl)
end
return previous
`;
