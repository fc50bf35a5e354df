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
index(base .. ':idx:status:' .. fields[4], member, cutoff, max, ttl)
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
 * Sets a record's status (and the given fields) and moves it between status indexes.
 * ARGV: base, id, status, cutoff, max, ttl, then field/value pairs. Returns the previous status or false.
 */
export const UPDATE_STATUS_SCRIPT = `${INDEX_HELPER}
local base, id, status, cutoff = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local max, ttl = tonumber(ARGV[5]), tonumber(ARGV[6])
local rec = base .. ':rec:' .. id
local old = redis.call('HGET', rec, 'status')
redis.call('HSET', rec, 'status', status, unpack(ARGV, 7))
if redis.call('TTL', rec) < 0 then redis.call('EXPIRE', rec, ttl) end
local member = redis.call('HGET', rec, 'member')
if member then
  if old and old ~= status then redis.call('ZREM', base .. ':idx:status:' .. old, member) end
  index(base .. ':idx:status:' .. status, member, cutoff, max, ttl)
end
return old
`;
