/**
 * Lua scripts of the event index. Each runs as one atomic step in one round trip. Keys are derived from
 * the base passed in ARGV; every key shares the base's hash tag, so they live in one cluster slot.
 */

// Adds `member` to an index set, caps it by count and keeps it alive only as long as it is written to.
// Members start with the zero-padded receivedAt, so the age trim is a lexicographic range; it runs on the
// writes that sweep (about 1 in 16), which keeps stale members few and spares the other writes the scan.
const INDEX_HELPER = `
local function index(key, member, cutoff, max, ttl, sweep)
  redis.call('ZADD', key, 0, member)
  if sweep then redis.call('ZREMRANGEBYLEX', key, '-', '(' .. cutoff) end
  redis.call('ZREMRANGEBYRANK', key, 0, -(max + 1))
  redis.call('EXPIRE', key, ttl)
end
`;

/**
 * SET-NX of an event record. Returns 1 when this call created it, 0 when it already existed (a duplicate).
 * ARGV: base, id, member, cutoff, max, ttl, payload, type, account, objectId, sweep (1/0), then field/value
 * pairs of the record. A worker may have written status fields first (it can run before this lands);
 * `receivedAt` marks a record this script created, and the worker's status is kept.
 */
export const RECORD_EVENT_SCRIPT = `${INDEX_HELPER}
local base, id, member, cutoff = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local max, ttl = tonumber(ARGV[5]), tonumber(ARGV[6])
local eventType, account, objectId, sweep = ARGV[8], ARGV[9], ARGV[10], ARGV[11] == '1'
local rec = base .. ':rec:' .. id
local seen = redis.call('HMGET', rec, 'receivedAt', 'status')
if seen[1] then return 0 end
local status = seen[2] or 'queued'
if seen[2] then
  redis.call('HSET', rec, unpack(ARGV, 12))
else
  redis.call('HSET', rec, 'status', 'queued', 'attempts', '0', unpack(ARGV, 12))
end
redis.call('EXPIRE', rec, ttl)
redis.call('SET', base .. ':payload:' .. id, ARGV[7], 'EX', ttl)
local all = base .. ':idx:all'
redis.call('ZADD', all, 0, member)
redis.call('ZREMRANGEBYLEX', all, '-', '(' .. cutoff)
redis.call('EXPIRE', all, ttl)
index(base .. ':idx:type:' .. eventType, member, cutoff, max, ttl, sweep)
if account ~= '' then index(base .. ':idx:account:' .. account, member, cutoff, max, ttl, sweep) end
if objectId ~= '' then index(base .. ':idx:object:' .. objectId, member, cutoff, max, ttl, sweep) end
-- Only failures have a status index (see EventIndex.indexKey); a worker may have failed it already.
if status == 'failed' then index(base .. ':idx:status:failed', member, cutoff, max, ttl, true) end
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
