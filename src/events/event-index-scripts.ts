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
 * Sets the status (and given fields) of one or more records and moves each between status indexes; each
 * status index touched is trimmed once per call, so a batch of N updates costs N small writes, not N trims.
 * ARGV: base, cutoff, max, ttl, then per update: id, status, n, then n field/value pairs.
 * Returns the previous status of each record (false where there was none).
 */
export const UPDATE_STATUSES_SCRIPT = `
local base, cutoff = ARGV[1], ARGV[2]
local max, ttl = tonumber(ARGV[3]), tonumber(ARGV[4])
local touched, previous = {}, {}
local i = 5
while i <= #ARGV do
  local id, status, n = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2])
  local rec = base .. ':rec:' .. id
  local old = redis.call('HGET', rec, 'status')
  local hset = { 'status', status }
  for k = 1, n * 2 do hset[k + 2] = ARGV[i + 2 + k] end
  redis.call('HSET', rec, unpack(hset))
  -- The worker can get here before the intake's record lands; the record script keeps this status.
  if redis.call('TTL', rec) < 0 then redis.call('EXPIRE', rec, ttl) end
  local member = redis.call('HGET', rec, 'member')
  if member and old ~= status then
    if old then redis.call('ZREM', base .. ':idx:status:' .. old, member) end
    redis.call('ZADD', base .. ':idx:status:' .. status, 0, member)
    touched[status] = true
  end
  previous[#previous + 1] = old or false
  i = i + 3 + n * 2
end
for status in pairs(touched) do
  local key = base .. ':idx:status:' .. status
  redis.call('ZREMRANGEBYLEX', key, '-', '(' .. cutoff)
  redis.call('ZREMRANGEBYRANK', key, 0, -(max + 1))
  redis.call('EXPIRE', key, ttl)
end
return previous
`;
