import type { Redis } from 'ioredis';
import type { Config } from '../config';
import { onePerConnection } from '../redis';
import { DEDUP_REMEMBER_LUA, dedupSlot } from './dedup-window';
import type { TraceCarrier } from '../telemetry/tracing';

/**
 * The intake log: a Redis stream where a verified Stripe event waits between the web's 2xx and a worker
 * turning it into a job and an event index record (IntakeMover). The web's whole Redis work per delivery
 * is one script: is the id known (its index record exists, or the dedup window remembers it)? if not,
 * remember it and append the raw body. Durability is the stream's (the AOF, like BullMQ's own keys);
 * exactly-once is the dedup window (src/events/dedup-window.ts), independent of how long records are kept.
 * KEYS: rec, dedup prefix, stream. ARGV: id, receivedAt, body, hour, field, hash, expireAt (the DedupSlot).
 */
/*
 * A traced delivery (docs/operations.md#tracing) also passes its W3C trace context, ARGV[8] traceparent and
 * ARGV[9] tracestate, stored with the entry so the worker's spans join the web's trace; an untraced one passes
 * neither and its entry has no such fields.
 */
export const INTAKE_APPEND_SCRIPT = `${DEDUP_REMEMBER_LUA}
if redis.call('HEXISTS', KEYS[1], 'receivedAt') == 1 then return 0 end
if not remember(KEYS[2], ARGV[4], ARGV[5], ARGV[6], ARGV[7]) then return 0 end
if ARGV[8] then
  redis.call('XADD', KEYS[3], '*', 'id', ARGV[1], 'receivedAt', ARGV[2], 'body', ARGV[3], 'traceparent', ARGV[8], 'tracestate', ARGV[9] or '')
else
  redis.call('XADD', KEYS[3], '*', 'id', ARGV[1], 'receivedAt', ARGV[2], 'body', ARGV[3])
end
return 1
`;

/**
 * The same for a thin notification (and for reconciled events, `source` = reconciled), keyed by its
 * snapshot event's id when it has one. A duplicate links itself to what is there: the record when it
 * exists (`thinEventId`), else a link key the record script picks up when the entry is moved.
 * KEYS: rec, dedup prefix, stream, link. ARGV: key, receivedAt, body, ttl, thin id ('' for none), source,
 * hour, field, hash, expireAt, and when the web traced the delivery its W3C traceparent and tracestate.
 */
export const INTAKE_APPEND_SOURCE_SCRIPT = `${DEDUP_REMEMBER_LUA}
if redis.call('HEXISTS', KEYS[1], 'receivedAt') == 1 then
  if ARGV[5] ~= '' then redis.call('HSETNX', KEYS[1], 'thinEventId', ARGV[5]) end
  return 0
end
if not remember(KEYS[2], ARGV[7], ARGV[8], ARGV[9], ARGV[10]) then
  if ARGV[5] ~= '' then redis.call('SET', KEYS[4], ARGV[5], 'EX', ARGV[4]) end
  return 0
end
if ARGV[11] then
  redis.call('XADD', KEYS[3], '*', 'id', ARGV[1], 'receivedAt', ARGV[2], 'body', ARGV[3], 'source', ARGV[6], 'thinId', ARGV[5], 'traceparent', ARGV[11], 'tracestate', ARGV[12] or '')
else
  redis.call('XADD', KEYS[3], '*', 'id', ARGV[1], 'receivedAt', ARGV[2], 'body', ARGV[3], 'source', ARGV[6], 'thinId', ARGV[5])
end
return 1
`;

/** Where an event came from; the index records it (`source` in the events API). */
export type EventSource = 'webhook' | 'thin' | 'reconciled' | 'replay';

/**
 * XREADGROUP within a byte budget: takes new entries one at a time, looking at the next one's size first
 * (XRANGE after the group's last delivered id; the script is atomic, so it is the entry XREADGROUP gives),
 * and stops before the budget would be passed. Unless the caller already holds entries, the first is always
 * taken, so one event larger than the budget still moves, alone. A plain COUNT would hand a mover
 * COUNT × BODY_LIMIT bytes at once (200 × 1 MB), and everything it makes from them.
 * KEYS: stream. ARGV: group, consumer, max count, max bytes, holding ('1': the first must fit too).
 * Returns entries as XREADGROUP does.
 */
export const INTAKE_READ_WITHIN_SCRIPT = `
local stream, group, consumer = KEYS[1], ARGV[1], ARGV[2]
local maxCount, maxBytes, holding = tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5] == '1'
local last
for _, info in ipairs(redis.call('XINFO', 'GROUPS', stream)) do
  local name, delivered
  for i = 1, #info, 2 do
    if info[i] == 'name' then name = info[i + 1] elseif info[i] == 'last-delivered-id' then delivered = info[i + 1] end
  end
  if name == group then last = delivered end
end
if not last then return redis.error_reply('NOGROUP no movers group on the intake log') end
local out, bytes = {}, 0
while #out < maxCount do
  local nextEntry = redis.call('XRANGE', stream, '(' .. last, '+', 'COUNT', 1)[1]
  if not nextEntry then break end
  local size = 0
  for i = 1, #nextEntry[2] do size = size + #nextEntry[2][i] end
  if (holding or #out > 0) and bytes + size > maxBytes then break end
  local entry = redis.call('XREADGROUP', 'GROUP', group, consumer, 'COUNT', 1, 'STREAMS', stream, '>')[1][2][1]
  out[#out + 1] = entry
  bytes = bytes + size
  last = entry[1]
end
return out
`;

/**
 * Dead letters kept at most: the newest. A letter holds its event's body only when the event index could not
 * keep it (the record holds the payload otherwise), so they take little memory.
 */
export const DEAD_LETTER_MAX = 1000;

/** The consumer group every worker's mover reads the log in. */
export const INTAKE_GROUP = 'movers';

export interface IntakeEntry {
  /** The stream entry id. */
  entryId: string;
  eventId: string;
  /** When the web accepted it (ms since the epoch). */
  receivedAt: number;
  /** The raw body Stripe sent, exactly as signed (a thin notification's for source thin). */
  body: string;
  /** Absent: `webhook` (a snapshot event the web accepted). */
  source?: EventSource;
  /** The thin notification's own id (source thin). */
  thinId?: string;
  /** The web's trace context when it traced the delivery (docs/operations.md#tracing). */
  trace?: TraceCarrier;
}

export interface IntakeBacklog {
  /** Entries in the log: accepted, not yet moved (or being moved). */
  waiting: number;
  /** Of those, read by a mover that has not finished with them. */
  pending: number;
  /** Entries no job could be made of, set aside (at most DEAD_LETTER_MAX are kept). */
  deadLettered: number;
}

/** An entry set aside because no job could be made of it, with why. */
export interface DeadLetter {
  eventId: string;
  receivedAt: number;
  error: string;
  /** When it was set aside (ms since the epoch). */
  at: number;
  /** The raw body, when the event index has no record holding it; '' otherwise. */
  body: string;
}

type IntakeRedis = Redis & {
  hooklaneIntakeAppend(rec: string, dedup: string, stream: string, id: string, receivedAt: string, body: Buffer | string, ...slotAndTrace: string[]): Promise<number>;
  hooklaneIntakeAppendSource(
    rec: string, dedup: string, stream: string, link: string,
    id: string, receivedAt: string, body: Buffer | string, ttl: string, thinId: string, source: EventSource, ...slotAndTrace: string[]
  ): Promise<number>;
  hooklaneIntakeReadWithin(stream: string, group: string, consumer: string, count: number, maxBytes: number, holding: '0' | '1'): Promise<StreamEntry[]>;
};

type StreamEntry = [id: string, fields: string[] | null];

/** DEDUP_WINDOW_HOURS absent: its default, 96. */
export type IntakeLogConfig = Pick<Config, 'QUEUE_PREFIX' | 'EVENT_INDEX_RETENTION_DAYS'> & Partial<Pick<Config, 'DEDUP_WINDOW_HOURS'>>;

/** The keys share the event index's hash tag: the append script reads its records, in one cluster slot. */
export const eventIndexBase = (prefix: string) => `${prefix}:{event-index}`;

function toEntry([entryId, fields]: StreamEntry): IntakeEntry {
  const map = new Map<string, string>();
  for (let i = 0; fields && i + 1 < fields.length; i += 2) map.set(fields[i]!, fields[i + 1]!);
  const source = (map.get('source') as EventSource | undefined) ?? 'webhook';
  const thinId = map.get('thinId');
  const traceparent = map.get('traceparent');
  const tracestate = map.get('tracestate');
  return {
    entryId,
    eventId: map.get('id') ?? '',
    receivedAt: Number(map.get('receivedAt')) || Date.now(),
    body: map.get('body') ?? '',
    source,
    ...(thinId ? { thinId } : {}),
    ...(traceparent ? { trace: { traceparent, ...(tracestate ? { tracestate } : {}) } } : {}),
  };
}

/** The script's trailing trace arguments: none for an untraced delivery. */
const traceArgs = (trace: TraceCarrier | undefined): string[] => (trace ? [trace.traceparent, trace.tracestate ?? ''] : []);

/** Where a thin duplicate of an event still in the log leaves its id for the record (RECORD_EVENT_SCRIPT). */
export const thinLinkKey = (base: string, eventId: string) => `${base}:thin-link:${eventId}`;

export class IntakeLog {
  readonly stream: string;
  /** Entries no job could be made of (a poison pill never blocks the entries around it). */
  readonly deadLetterStream: string;
  private readonly base: string;
  /** The dedup window's keys: `${dedupPrefix}:<hour>` and its buckets. */
  readonly dedupPrefix: string;
  private readonly windowHours: number;
  private readonly ttlSeconds: string;
  private readonly redis: IntakeRedis;

  constructor(redis: Redis, config: IntakeLogConfig) {
    this.base = eventIndexBase(config.QUEUE_PREFIX);
    this.stream = `${this.base}:intake`;
    this.deadLetterStream = `${this.base}:dead-letters`;
    this.dedupPrefix = `${this.base}:dedup`;
    this.windowHours = config.DEDUP_WINDOW_HOURS ?? 96;
    // A thin link outlives its entry only if the entry was lost; the retention bounds it.
    this.ttlSeconds = String(config.EVENT_INDEX_RETENTION_DAYS * 86_400);
    if (!('hooklaneIntakeAppend' in redis)) {
      redis.defineCommand('hooklaneIntakeAppend', { numberOfKeys: 3, lua: INTAKE_APPEND_SCRIPT });
      redis.defineCommand('hooklaneIntakeAppendSource', { numberOfKeys: 4, lua: INTAKE_APPEND_SOURCE_SCRIPT });
      redis.defineCommand('hooklaneIntakeReadWithin', { numberOfKeys: 1, lua: INTAKE_READ_WITHIN_SCRIPT });
    }
    this.redis = redis as IntakeRedis;
  }

  private slot(eventId: string, createdSeconds: number | null, receivedAtMs: number): string[] {
    const { hour, field, hash, expireAt } = dedupSlot(eventId, createdSeconds, this.windowHours, receivedAtMs);
    return [hour, field, hash, expireAt];
  }

  /**
   * Appends a verified event unless its id is known; resolves true when this call appended it.
   * `createdSeconds`: the event's `created` (null when it has none), which picks its dedup bucket.
   */
  async append(
    eventId: string, body: Buffer | string, receivedAtMs = Date.now(), createdSeconds: number | null = null, trace?: TraceCarrier,
  ): Promise<boolean> {
    const rec = `${this.base}:rec:${eventId}`;
    const added = await this.redis.hooklaneIntakeAppend(
      rec, this.dedupPrefix, this.stream, eventId, String(receivedAtMs), body, ...this.slot(eventId, createdSeconds, receivedAtMs), ...traceArgs(trace),
    );
    return added === 1;
  }

  /**
   * Appends a thin notification under `key` (its snapshot event's id, or its own) unless the key is known;
   * a duplicate is linked to the event it duplicates. Resolves true when this call appended it.
   */
  async appendThin(
    key: string, thinId: string, body: Buffer | string, receivedAtMs = Date.now(), createdSeconds: number | null = null, trace?: TraceCarrier,
  ): Promise<boolean> {
    return this.appendFrom('thin', key, body, createdSeconds, receivedAtMs, thinId, trace);
  }

  /** Appends an event found by reconciliation (the full snapshot event's JSON) unless its id is known. */
  async appendReconciled(eventId: string, body: string, receivedAtMs = Date.now(), createdSeconds: number | null = null): Promise<boolean> {
    return this.appendFrom('reconciled', eventId, body, createdSeconds, receivedAtMs, '');
  }

  private async appendFrom(
    source: EventSource, key: string, body: Buffer | string, createdSeconds: number | null, receivedAtMs: number, thinId: string, trace?: TraceCarrier,
  ): Promise<boolean> {
    const added = await this.redis.hooklaneIntakeAppendSource(
      `${this.base}:rec:${key}`, this.dedupPrefix, this.stream, thinLinkKey(this.base, key),
      key, String(receivedAtMs), body, this.ttlSeconds, thinId, source, ...this.slot(key, createdSeconds, receivedAtMs), ...traceArgs(trace),
    );
    return added === 1;
  }

  /** Creates the movers' group (and the stream) if missing, from the start, so nothing appended earlier is skipped. */
  async ensureGroup(): Promise<void> {
    try {
      await this.redis.xgroup('CREATE', this.stream, INTAKE_GROUP, '0', 'MKSTREAM');
    } catch (err) {
      if (!(err as Error).message.startsWith('BUSYGROUP')) throw err;
    }
  }

  /** New entries for `consumer`, waiting up to `blockMs` for the first (0: do not wait). */
  async read(consumer: string, count: number, blockMs: number): Promise<IntakeEntry[]> {
    const block = blockMs > 0 ? ['BLOCK', blockMs] : [];
    const reply = (await this.redis.xreadgroup('GROUP', INTAKE_GROUP, consumer, 'COUNT', count, ...(block as ['BLOCK', number]), 'STREAMS', this.stream, '>')) as
      | [string, StreamEntry[]][]
      | null;
    return (reply?.[0]?.[1] ?? []).map(toEntry);
  }

  /**
   * New entries for `consumer`, without waiting: at most `count`, and as many as fit in `maxBytes` of
   * fields; at least one when any is waiting, unless `holding` (the caller has entries already).
   */
  async readWithin(consumer: string, count: number, maxBytes: number, holding = false): Promise<IntakeEntry[]> {
    const reply = await this.redis.hooklaneIntakeReadWithin(this.stream, INTAKE_GROUP, consumer, count, maxBytes, holding ? '1' : '0');
    return reply.map(toEntry);
  }

  /**
   * Takes over entries another mover read and has not finished with for `minIdleMs` (it died or hung).
   * Entries deleted meanwhile are dropped from the pending list by Redis and not returned.
   */
  async claimStale(consumer: string, minIdleMs: number, count: number): Promise<IntakeEntry[]> {
    const [, entries] = (await this.redis.xautoclaim(this.stream, INTAKE_GROUP, consumer, minIdleMs, '0-0', 'COUNT', count)) as [string, StreamEntry[]];
    return entries.filter(([, fields]) => fields !== null).map(toEntry);
  }

  /** Removes moved entries (the dedup window keeps recognising their ids), atomically. */
  async done(entries: readonly IntakeEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const ids = entries.map((e) => e.entryId);
    const multi = this.redis.multi().xack(this.stream, INTAKE_GROUP, ...ids).xdel(this.stream, ...ids);
    const results = await multi.exec();
    const failed = results?.find(([err]) => err);
    if (failed) throw failed[0];
  }

  /**
   * Sets entries aside that no job can be made of, with why, and takes them out of the log, in one step:
   * they are never retried, and never block the entries read with them. The newest DEAD_LETTER_MAX are kept.
   */
  async deadLetter(failures: readonly { entry: IntakeEntry; error: string; keepBody?: boolean }[]): Promise<void> {
    if (failures.length === 0) return;
    const multi = this.redis.multi();
    const at = String(Date.now());
    for (const { entry, error, keepBody = true } of failures) {
      multi.xadd(this.deadLetterStream, 'MAXLEN', '=', DEAD_LETTER_MAX, '*',
        'id', entry.eventId, 'receivedAt', String(entry.receivedAt), 'error', error.slice(0, 1000), 'at', at, 'body', keepBody ? entry.body : '');
    }
    const results = await multi.exec();
    const failed = results?.find(([err]) => err);
    if (failed) throw failed[0];
    await this.done(failures.map((f) => f.entry));
  }

  /** The newest dead letters first. */
  async deadLetters(count = 100): Promise<DeadLetter[]> {
    const entries = (await this.redis.xrevrange(this.deadLetterStream, '+', '-', 'COUNT', count)) as StreamEntry[];
    return entries.map(([, fields]) => {
      const map = new Map<string, string>();
      for (let i = 0; fields && i + 1 < fields.length; i += 2) map.set(fields[i]!, fields[i + 1]!);
      return { eventId: map.get('id') ?? '', receivedAt: Number(map.get('receivedAt')) || 0, error: map.get('error') ?? '', at: Number(map.get('at')) || 0, body: map.get('body') ?? '' };
    });
  }

  async backlog(): Promise<IntakeBacklog> {
    // A pipeline, not MULTI: Redis refuses every command queued in a transaction while it is over maxmemory,
    // and the console must show the backlog exactly then. Reads a moment apart are close enough here.
    const [[, waiting], [, pending], [, deadLettered]] = ((await this.redis
      .pipeline()
      .xlen(this.stream)
      .xpending(this.stream, INTAKE_GROUP)
      .xlen(this.deadLetterStream)
      .exec()) ?? [
      [null, 0],
      [null, [0]],
      [null, 0],
    ]) as [[Error | null, number], [Error | null, [number] | null], [Error | null, number]];
    return { waiting: Number(waiting) || 0, pending: Number(pending?.[0]) || 0, deadLettered: Number(deadLettered) || 0 };
  }

  /** Forgets consumers (movers of processes long gone) that hold nothing and were idle over `idleMs`. */
  async pruneConsumers(idleMs: number): Promise<number> {
    const consumers = (await this.redis.xinfo('CONSUMERS', this.stream, INTAKE_GROUP)) as (string | number)[][];
    let pruned = 0;
    for (const fields of consumers) {
      const info = new Map<string, string | number>();
      for (let i = 0; i + 1 < fields.length; i += 2) info.set(String(fields[i]), fields[i + 1]!);
      if (Number(info.get('pending')) === 0 && Number(info.get('idle')) > idleMs) {
        await this.redis.xgroup('DELCONSUMER', this.stream, INTAKE_GROUP, String(info.get('name')));
        pruned += 1;
      }
    }
    return pruned;
  }
}

/** One IntakeLog per Redis connection (its script is defined on the connection once). */
export const intakeLogFor = onePerConnection((redis, config: IntakeLogConfig) => new IntakeLog(redis, config));
