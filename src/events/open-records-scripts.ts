import { MEMBER_OF_RECORD } from './event-index-scripts';

/**
 * Lua scripts of the index's open set (`idx:open`): the records not final yet (`queued`/`processing`),
 * scored by the time of their last status change in ms. The scripts that write statuses keep it
 * (event-index-scripts.ts); these read it and settle what the sweep found. Keys share the index's hash tag.
 */

/**
 * The open records whose last status change is at least ARGV[2] ms old by Redis's clock (one clock for
 * every instance), oldest first, at most ARGV[3]. ARGV: base, afterMs, limit.
 * Returns {now, {id, score, status, jobId, ...}}; status and jobId are '' when the record is gone.
 */
export const DUE_OPEN_RECORDS_SCRIPT = `
local base, after, limit = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local due = redis.call('ZRANGEBYSCORE', base .. ':idx:open', '-inf', now - after, 'WITHSCORES', 'LIMIT', 0, limit)
local out = {}
for i = 1, #due, 2 do
  local fields = redis.call('HMGET', base .. ':rec:' .. due[i], 'status', 'jobId')
  out[#out + 1] = due[i]
  out[#out + 1] = due[i + 1]
  out[#out + 1] = fields[1] or ''
  out[#out + 1] = fields[2] or ''
end
return {now, out}
`;

/**
 * Applies what the sweep decided, each item only if its record has not moved since the sweep read it (its
 * open score is the one read: every status write rescores or removes it), so a worker's or a replay's
 * write in between always wins. ARGV: base, ttl, then per item: id, score, action, n, n field/value pairs.
 * Actions: `alive` (the job runs or waits: checked again after another interval), `gone` (no record, or a
 * final one: forget it), or the final status to write (`succeeded`, `ignored`, `failed`, `lost`). A `failed` or
 * `lost` record enters its status index; `lost` is counted. Returns one 1/0 per item: applied or not.
 */
export const SETTLE_OPEN_RECORDS_SCRIPT = `${MEMBER_OF_RECORD}
local base, ttl = ARGV[1], tonumber(ARGV[2])
local open = base .. ':idx:open'
local now
local applied = {}
local i = 3
while i <= #ARGV do
  local id, score, action, count = ARGV[i], ARGV[i + 1], ARGV[i + 2], tonumber(ARGV[i + 3])
  local ok = redis.call('ZSCORE', open, id) == score
  if ok and action == 'alive' then
    if not now then
      local t = redis.call('TIME')
      now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
    end
    redis.call('ZADD', open, 'XX', now, id)
  elseif ok and action == 'gone' then
    redis.call('ZREM', open, id)
  elseif ok then
    local rec = base .. ':rec:' .. id
    redis.call('HSET', rec, 'status', action, unpack(ARGV, i + 4, i + 3 + 2 * count))
    redis.call('ZREM', open, id)
    if action == 'failed' or action == 'lost' then
      local member = memberOf(rec, id)
      if member then
        local key = base .. ':idx:status:' .. action
        redis.call('ZADD', key, 0, member)
        redis.call('EXPIRE', key, ttl)
      end
    end
    if action == 'lost' then redis.call('INCR', base .. ':lost-total') end
  end
  applied[#applied + 1] = ok and 1 or 0
  i = i + 4 + 2 * count
end
return applied
`;

/**
 * Puts the records written before the open set existed into it, a bounded step at a time: walks the time
 * index from a stored cursor (`open-backfill`, `done` at the end) and adds every record still queued or
 * processing, scored by when it was received. Records written since are in the open set already.
 * ARGV: base, limit. Returns how many index entries it walked (0 once done).
 */
export const BACKFILL_OPEN_RECORDS_SCRIPT = `
local base, limit = ARGV[1], tonumber(ARGV[2])
local cursorKey = base .. ':open-backfill'
local cursor = redis.call('GET', cursorKey)
if cursor == 'done' then return 0 end
local members = redis.call('ZRANGEBYLEX', base .. ':idx:all', cursor and ('(' .. cursor) or '-', '+', 'LIMIT', 0, limit)
for _, member in ipairs(members) do
  local id = string.sub(member, 15)
  local status = redis.call('HGET', base .. ':rec:' .. id, 'status')
  if status == 'queued' or status == 'processing' then
    redis.call('ZADD', base .. ':idx:open', 'NX', string.sub(member, 1, 13), id)
  end
end
if #members < limit then redis.call('SET', cursorKey, 'done') else redis.call('SET', cursorKey, members[#members]) end
return #members
`;
