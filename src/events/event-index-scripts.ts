import { REDIS_PARAMETERS } from '../redis-parameters';

/**
 * Lua scripts of the event index. Each runs as one atomic step in one round trip. Keys are derived from
 * the base passed in ARGV; every key shares the base's hash tag, so they live in one cluster slot.
 */

/**
 * Most entries (and records) one write trims beyond the count cap. Within the cap a write trims one; after
 * EVENT_INDEX_MAX_EVENTS is lowered the excess goes in steps of this size, one per write, instead of in
 * one script that blocks Redis (20,000 records over a new cap of 100 were 19,901 deletions in one call).
 */
export const TRIM_STEP = 500;

/**
 * The longest compressed payload kept inside its record's hash: Redis keeps a hash as a listpack (a third of
 * a hash table's bytes) only while every value is at most `hash-max-listpack-value` long.
 */
export const INLINE_PAYLOAD_MAX = Number(REDIS_PARAMETERS['hash-max-listpack-value']);

/**
 * A record's member in the time indexes (`receivedAt` zero-padded to 13 digits, ':', the id), built from the
 * record's own fields: records no longer store it (or their id: it is in the key), which spares ~70 bytes
 * each. Records written before keep a `member` field; it is read first.
 */
export const MEMBER_OF_RECORD = `
local function memberOf(rec, id)
  local f = redis.call('HMGET', rec, 'member', 'receivedAt')
  if f[1] then return f[1] end
  if not f[2] then return nil end
  return string.rep('0', 13 - #f[2]) .. f[2] .. ':' .. id
end
`;

// Adds `member` to an index set, caps it by count and keeps it alive only as long as it is written to.
// Members start with the zero-padded receivedAt, so the age trim is a lexicographic range; it runs on the
// writes that sweep (about 1 in 16), which keeps stale members few and spares the other writes the scan.
const INDEX_HELPER = `
local function capByCount(key, max)
  local over = redis.call('ZCARD', key) - max
  if over > 0 then redis.call('ZREMRANGEBYRANK', key, 0, math.min(over, ${TRIM_STEP}) - 1) end
end
local function index(key, member, cutoff, max, ttl, sweep)
  redis.call('ZADD', key, 0, member)
  if sweep then redis.call('ZREMRANGEBYLEX', key, '-', '(' .. cutoff) end
  capByCount(key, max)
  redis.call('EXPIRE', key, ttl)
end
`;

/**
 * SET-NX of an event record. Returns 1 when this call created it, 0 when it already existed (a duplicate).
 * ARGV: base, id, member, cutoff, max, ttl, payload (compressed), type, account, objectId, sweep (1/0),
 * payload byte budget, the longest payload kept in the record (INLINE_PAYLOAD_MAX, or 0: none), then
 * field/value pairs of the record.
 * A compressed payload of at most INLINE_PAYLOAD_MAX bytes is the record's `payload` field (a key of its own
 * costs ~120 bytes more); a longer one keeps its own key, `payload:<id>`, as every payload did before: in the
 * record it would turn the whole hash from a listpack into a hash table, which costs more than the key. The
 * walk and the count cap drop and count out both (records written before hold theirs in the key).
 * Payloads leave oldest first, by age (cutoff) and by bytes (the budget; `payload-bytes` counts them), walking
 * the overall index from `payload-cursor` (the newest member whose payload went), at most TRIM_STEP a write;
 * a record whose payload went says `payloadExpired`. The overall index ages out only behind that cursor, so
 * every payload is counted out before its member goes. A worker may have written status fields first (it can run before this lands);
 * `receivedAt` marks a record this script created, and the worker's status is kept.
 */
export const RECORD_EVENT_SCRIPT = `${INDEX_HELPER}
-- Drops a record's payload (its field, or an earlier version's own key) and returns its bytes (0: none stored).
local function dropPayload(base, id)
  local rec = base .. ':rec:' .. id
  local size = redis.call('HSTRLEN', rec, 'payload')
  if size > 0 then redis.call('HDEL', rec, 'payload') end
  local oldKey = base .. ':payload:' .. id
  local oldSize = redis.call('STRLEN', oldKey)
  if oldSize > 0 then redis.call('DEL', oldKey) end
  return size + oldSize
end
local base, id, member, cutoff = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local max, ttl = tonumber(ARGV[5]), tonumber(ARGV[6])
local eventType, account, objectId, sweep = ARGV[8], ARGV[9], ARGV[10], ARGV[11] == '1'
local payloadMax = tonumber(ARGV[12])
local rec = base .. ':rec:' .. id
local seen = redis.call('HMGET', rec, 'receivedAt', 'status')
if seen[1] then return 0 end
local status = seen[2] or 'queued'
local inline = #ARGV[7] <= tonumber(ARGV[13])
if not seen[2] then redis.call('HSET', rec, 'status', 'queued', 'attempts', '0') end
if inline then
  redis.call('HSET', rec, 'payload', ARGV[7], unpack(ARGV, 14))
else
  redis.call('HSET', rec, unpack(ARGV, 14))
  -- The key's own expiry is a safety net a day behind the walk below, which normally gets there first.
  redis.call('SET', base .. ':payload:' .. id, ARGV[7], 'EX', ttl + 86400)
end
redis.call('EXPIRE', rec, ttl)
-- A thin notification of this event arrived while it waited in the intake log (INTAKE_APPEND_SOURCE_SCRIPT).
local thinLink = base .. ':thin-link:' .. id
local thinId = redis.call('GET', thinLink)
if thinId then
  redis.call('HSETNX', rec, 'thinEventId', thinId)
  redis.call('DEL', thinLink)
end
local all = base .. ':idx:all'
local bytesKey, cursorKey = base .. ':payload-bytes', base .. ':payload-cursor'
local total = redis.call('INCRBY', bytesKey, #ARGV[7])
redis.call('ZADD', all, 0, member)
local cursor = redis.call('GET', cursorKey)
for _ = 1, ${TRIM_STEP} do
  local nextMember = redis.call('ZRANGEBYLEX', all, cursor and ('(' .. cursor) or '-', '+', 'LIMIT', 0, 1)[1]
  if not nextMember then
    -- Everything older went: what is still counted is drift (a payload that expired by itself); start again.
    if total > payloadMax then total = #ARGV[7]; redis.call('SET', bytesKey, total) end
    break
  end
  if nextMember == member or (total <= payloadMax and nextMember >= cutoff) then break end
  local oldId = string.sub(nextMember, 15)
  local size = dropPayload(base, oldId)
  if size > 0 then
    total = redis.call('DECRBY', bytesKey, size)
    local oldRec = base .. ':rec:' .. oldId
    if redis.call('EXISTS', oldRec) == 1 then redis.call('HSET', oldRec, 'payloadExpired', '1') end
  end
  cursor = nextMember
end
if cursor then
  redis.call('SET', cursorKey, cursor)
  redis.call('ZREMRANGEBYLEX', all, '-', cursor < cutoff and ('[' .. cursor) or ('(' .. cutoff))
end
redis.call('EXPIRE', all, ttl)
index(base .. ':idx:type:' .. eventType, member, cutoff, max, ttl, sweep)
if account ~= '' then index(base .. ':idx:account:' .. account, member, cutoff, max, ttl, sweep) end
if objectId ~= '' then index(base .. ':idx:object:' .. objectId, member, cutoff, max, ttl, sweep) end
-- Not final yet: in the open set, scored by when it was received, for the index sweep (open-records.ts).
if status == 'queued' or status == 'processing' then redis.call('ZADD', base .. ':idx:open', string.sub(member, 1, 13), id) end
-- Only failures have a status index (see EventIndex.indexKey); a worker may have failed it already.
if status == 'failed' then index(base .. ':idx:status:failed', member, cutoff, max, ttl, true) end
-- The count cap holds for records too, not only for the index: drop the oldest beyond it, in bounded steps.
local extra = math.min(redis.call('ZCARD', all) - max, ${TRIM_STEP})
if extra > 0 then
  for _, old in ipairs(redis.call('ZRANGE', all, 0, extra - 1)) do
    local oldId = string.sub(old, 15)
    local size = dropPayload(base, oldId)
    if size > 0 then redis.call('DECRBY', bytesKey, size) end
    redis.call('DEL', base .. ':rec:' .. oldId)
  end
  redis.call('ZREMRANGEBYRANK', all, 0, extra - 1)
end
return 1
`;

/**
 * Sets the status (and given fields) of one or more records: one HSET per record (and its place in the open
 * set: a ZADD, or a ZREM once final), the worker's whole batch in one call. A record that fails enters the
 * failed index; one that leaves `failed` stays there until a failed listing drops it
 * (REPAIR_STATUS_INDEX_SCRIPT): reading each record's old status first would
 * double the Redis work of every job for the rare record that leaves `failed`.
 * ARGV: base, cutoff, max, ttl, then per update: id, status, n, and n field/value pairs (flat arguments:
 * no decoding in the script).
 */
export const UPDATE_STATUSES_SCRIPT = `${INDEX_HELPER}${MEMBER_OF_RECORD}
local base, cutoff = ARGV[1], ARGV[2]
local max, ttl = tonumber(ARGV[3]), tonumber(ARGV[4])
local failedKey = base .. ':idx:status:failed'
local openKey = base .. ':idx:open'
local failedAdded = false
local now
local i = 5
while i <= #ARGV do
  local id, status, count = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2])
  local rec = base .. ':rec:' .. id
  local added = redis.call('HSET', rec, 'status', status, unpack(ARGV, i + 3, i + 2 + 2 * count))
  -- Every field was new, status included: there was no record. The worker got here before the intake's
  -- record landed (the record script keeps this status), or the record is gone; either way the hash must
  -- not outlive the retention.
  if added == count + 1 then redis.call('EXPIRE', rec, ttl) end
  -- The open set holds what is not final, scored by its last status change (Redis's clock): the sweep's work list.
  if status == 'queued' or status == 'processing' then
    if not now then
      local t = redis.call('TIME')
      now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
    end
    redis.call('ZADD', openKey, now, id)
  else
    redis.call('ZREM', openKey, id)
  end
  if status == 'failed' then
    local member = memberOf(rec, id)
    if member then
      redis.call('ZADD', failedKey, 0, member)
      failedAdded = true
    end
  end
  i = i + 3 + 2 * count
end
if failedAdded then
  redis.call('ZREMRANGEBYLEX', failedKey, '-', '(' .. cutoff)
  capByCount(failedKey, max)
  redis.call('EXPIRE', failedKey, ttl)
end
return 1
`;

/**
 * Drops from a status index (failed, or lost) the members whose record no longer has that status (a retry
 * or replay took it elsewhere) or is gone. Checked here, atomically, so a record that fails again meanwhile
 * keeps its entry. ARGV: base, status, then the members a listing found stale. Returns how many it dropped.
 */
export const REPAIR_STATUS_INDEX_SCRIPT = `
local base, wanted = ARGV[1], ARGV[2]
local statusKey = base .. ':idx:status:' .. wanted
local dropped = 0
for i = 3, #ARGV do
  local member = ARGV[i]
  local status = redis.call('HGET', base .. ':rec:' .. string.sub(member, 15), 'status')
  if status ~= wanted then dropped = dropped + redis.call('ZREM', statusKey, member) end
end
return dropped
`;
