import type { Redis } from 'ioredis';
import type { Config } from '../config';
import { AppError } from '../errors';
import { INLINE_PAYLOAD_MAX, RECORD_EVENT_SCRIPT, REPAIR_STATUS_INDEX_SCRIPT, UPDATE_STATUSES_SCRIPT } from './event-index-scripts';
import { onePerConnection } from '../redis';
import { eventIndexBase } from './intake-log';
import { decodePayload, encodePayload } from './payload-codec';
import { isEventStatus, type EventRecord, type EventStatus, type EventSummary } from './event-record';

export type EventIndexConfig = Pick<Config, 'QUEUE_PREFIX' | 'EVENT_INDEX_RETENTION_DAYS' | 'EVENT_INDEX_MAX_EVENTS'> &
  Partial<Pick<Config, 'EVENT_PAYLOAD_MAX_MB' | 'EVENT_RECORDS_COMPACT'>>;

/** EVENT_PAYLOAD_MAX_MB unset and Redis without maxmemory (or not asked): this many MB of payloads. */
export const DEFAULT_PAYLOAD_MAX_MB = 256;

/**
 * The payload budget in bytes: EVENT_PAYLOAD_MAX_MB, else a quarter of Redis's maxmemory when known (the rest
 * is BullMQ's, the dedup window's and the records'), else DEFAULT_PAYLOAD_MAX_MB.
 */
export function payloadBudgetBytes(configuredMb: number | undefined, redisMaxMemoryBytes = 0): number {
  if (configuredMb !== undefined) return configuredMb * 1024 * 1024;
  if (redisMaxMemoryBytes > 0) return Math.floor(redisMaxMemoryBytes / 4);
  return DEFAULT_PAYLOAD_MAX_MB * 1024 * 1024;
}

export interface EventQuery {
  type?: string;
  account?: string;
  objectId?: string;
  status?: EventStatus;
  limit: number;
  cursor?: string;
}

export interface StatusFields {
  attempts?: number;
  lastError?: string | null;
  jobId?: string;
  /** Where the work now running came from: a replay re-marks its record `replay`. */
  source?: EventRecord['source'];
}

export interface StatusUpdate {
  id: string;
  status: EventStatus;
  fields?: StatusFields;
}

export interface EventPage {
  events: EventRecord[];
  /** Opaque; pass it back as `cursor` for the next (older) page. Null when there is nothing older. */
  nextCursor: string | null;
}

type IndexRedis = Redis & {
  hooklaneRecordEvent(...args: (string | Buffer)[]): Promise<number>;
  hooklaneUpdateEventStatuses(...args: string[]): Promise<number>;
  hooklaneRepairStatusIndex(...args: string[]): Promise<number>;
};

const MEMBER = /^\d{13}:[A-Za-z0-9_-]{1,255}$/;
// How many index entries one page may scan while filtering before it returns what it has (and a cursor).
const MAX_SCAN_BATCHES = 5;

/** Index members sort by time: zero-padded receivedAt, then the id (which breaks ties within a millisecond). */
const memberFor = (receivedAtMs: number, id: string) => `${String(receivedAtMs).padStart(13, '0')}:${id}`;
const idOf = (member: string) => member.slice(14);
const encodeCursor = (member: string) => Buffer.from(member).toString('base64url');

function decodeCursor(cursor: string): string {
  const member = Buffer.from(cursor, 'base64url').toString();
  if (!MEMBER.test(member)) throw new AppError('VALIDATION_FAILED', 'cursor is not one this API returned.');
  return member;
}

/**
 * The fields a record is read from: all but its payload (binary, and not needed to list or show it). `id` and
 * `member` are not written any more; `member` is not needed here.
 */
const RECORD_FIELDS = [
  'type', 'account', 'objectId', 'created', 'receivedAt', 'status', 'attempts', 'lastError', 'jobId', 'replays', 'source',
  'thinEventId', 'payloadExpired',
] as const;

const fieldsOf = (values: readonly (string | null)[]): Record<string, string> =>
  Object.fromEntries(RECORD_FIELDS.flatMap((name, i) => (values[i] == null ? [] : [[name, values[i]!]])));

/** A record from its hash; `id` from its key (records written before it was left out also hold it as a field). */
function toRecord(id: string, fields: Record<string, string>): EventRecord | undefined {
  if (!fields.receivedAt || !isEventStatus(fields.status)) return undefined;
  const created = Number(fields.created);
  return {
    id,
    type: fields.type ?? '',
    account: fields.account || null,
    objectId: fields.objectId || null,
    created: fields.created && Number.isFinite(created) ? new Date(created * 1000).toISOString() : null,
    receivedAt: new Date(Number(fields.receivedAt)).toISOString(),
    status: fields.status,
    attempts: Number(fields.attempts ?? 0),
    lastError: fields.lastError || null,
    jobId: fields.jobId ?? id,
    replays: Number(fields.replays ?? 0),
    source: (['thin', 'reconciled', 'replay'] as const).find((s) => s === fields.source) ?? 'webhook',
    thinEventId: fields.thinEventId || null,
    payloadExpired: fields.payloadExpired === '1',
  };
}

function matches(record: EventRecord, query: EventQuery): boolean {
  return (
    (!query.type || record.type === query.type) &&
    (!query.account || record.account === query.account) &&
    (!query.objectId || record.objectId === query.objectId) &&
    (!query.status || record.status === query.status)
  );
}

/**
 * Every accepted Stripe event: a hash per event, its raw payload beside it, and sorted sets by time overall,
 * per type, account and object, and of failed events. Retention is bounded on writes, cheaply: records and
 * payloads expire after EVENT_INDEX_RETENTION_DAYS, index sets are trimmed by age and to
 * EVENT_INDEX_MAX_EVENTS entries, and a set nobody writes to expires. The record outlives the BullMQ job,
 * which is what lets a redelivery be recognised after its job was removed.
 */
export class EventIndex {
  private readonly base: string;
  /** Failed and lost events, the statuses with a set of their own (see indexKey). */
  private readonly failedKey: string;
  private readonly lostKey: string;
  private readonly redis: IndexRedis;
  private readonly ttlSeconds: number;
  private payloadMaxBytes: string;

  /** `options.payloadMaxBytes`: the payload budget when the caller resolved it (payloadBudgetBytes). */
  constructor(redis: Redis, private readonly config: EventIndexConfig, options: { payloadMaxBytes?: number } = {}) {
    this.payloadMaxBytes = String(options.payloadMaxBytes ?? payloadBudgetBytes(config.EVENT_PAYLOAD_MAX_MB));
    // The hash tag keeps every key of the index in one cluster slot, as the Lua scripts need.
    this.base = eventIndexBase(config.QUEUE_PREFIX);
    this.failedKey = `${this.base}:idx:status:failed`;
    this.lostKey = `${this.base}:idx:status:lost`;
    this.ttlSeconds = config.EVENT_INDEX_RETENTION_DAYS * 86_400;
    if (!('hooklaneRecordEvent' in redis)) {
      redis.defineCommand('hooklaneRecordEvent', { numberOfKeys: 0, lua: RECORD_EVENT_SCRIPT });
      redis.defineCommand('hooklaneUpdateEventStatuses', { numberOfKeys: 0, lua: UPDATE_STATUSES_SCRIPT });
      redis.defineCommand('hooklaneRepairStatusIndex', { numberOfKeys: 0, lua: REPAIR_STATUS_INDEX_SCRIPT });
    }
    this.redis = redis as IndexRedis;
  }

  private recordKey(id: string): string {
    return `${this.base}:rec:${id}`;
  }

  private payloadKey(id: string): string {
    return `${this.base}:payload:${id}`;
  }

  private indexKey(query: EventQuery): string {
    if (query.objectId) return `${this.base}:idx:object:${query.objectId}`;
    if (query.account) return `${this.base}:idx:account:${query.account}`;
    if (query.type) return `${this.base}:idx:type:${query.type}`;
    // Failures and lost events are rare and sought: they have their own index (lost ones are written by the
    // index sweep). The other statuses are dense (most events are succeeded or ignored) or short-lived, so
    // filtering the newest records finds them quickly.
    if (query.status === 'failed') return this.failedKey;
    if (query.status === 'lost') return this.lostKey;
    return `${this.base}:idx:all`;
  }

  private trimArgs(now: number): [string, string, string] {
    const cutoff = String(now - this.ttlSeconds * 1000).padStart(13, '0');
    return [cutoff, String(this.config.EVENT_INDEX_MAX_EVENTS), String(this.ttlSeconds)];
  }

  /**
   * Records an accepted event with SET-NX semantics, in one atomic step and one round trip, with its payload
   * compressed (the only stored copy: jobs carry a reference). Resolves true when this call created the
   * record, false when it already existed.
   */
  async record(summary: EventSummary, payload: string | Buffer, receivedAtMs = Date.now()): Promise<boolean> {
    const member = memberFor(receivedAtMs, summary.id);
    const [cutoff, max, ttl] = this.trimArgs(receivedAtMs);
    // Compact: neither the id (it is in the key) nor the index member (receivedAt and id make it: MEMBER_OF_RECORD)
    // is stored. Earlier versions read both, so they are written until EVENT_RECORDS_COMPACT is turned on.
    const compact = this.config.EVENT_RECORDS_COMPACT === true;
    const fields = [
      ...(compact ? [] : ['id', summary.id, 'member', member]),
      'type', summary.type,
      'account', summary.account ?? '',
      'objectId', summary.objectId ?? '',
      'created', summary.created === null ? '' : String(summary.created),
      'receivedAt', String(receivedAtMs),
      // Defaults are not written (every byte of a record is kept per event): jobId = id, replays 0, source webhook.
      ...(summary.source && summary.source !== 'webhook' ? ['source', summary.source] : []),
      ...(summary.thinEventId ? ['thinEventId', summary.thinEventId] : []),
    ];
    // About 1 write in 16 sweeps the secondary indexes by age (the overall index is swept on every write).
    const sweep = receivedAtMs % 16 === 0 ? '1' : '0';
    const created = await this.redis.hooklaneRecordEvent(
      this.base, summary.id, member, cutoff, max, ttl, encodePayload(payload),
      summary.type, summary.account ?? '', summary.objectId ?? '', sweep, this.payloadMaxBytes,
      // Not compact (a version that reads payloads only from their own keys may still run): none inline.
      compact ? String(INLINE_PAYLOAD_MAX) : '0',
      ...fields,
    );
    return created === 1;
  }

  /** Changes the payload budget (the worker learns Redis's maxmemory after it started). */
  usePayloadBudget(bytes: number): void {
    this.payloadMaxBytes = String(bytes);
  }

  /** Sets the status (and attempts, last error, job id when given). */
  async setStatus(id: string, status: EventStatus, fields: StatusFields = {}): Promise<void> {
    await this.setStatuses([{ id, status, fields }]);
  }

  /** Applies many status updates in one atomic step and one round trip (the worker's batches). */
  async setStatuses(updates: readonly StatusUpdate[]): Promise<void> {
    if (updates.length === 0) return;
    const args: string[] = [];
    for (const { id, status, fields = {} } of updates) {
      // Strings only: the script hands them to HSET as they are; a cleared lastError is ''.
      const set: string[] = [];
      if (fields.attempts !== undefined) set.push('attempts', String(fields.attempts));
      if (fields.lastError !== undefined) set.push('lastError', (fields.lastError ?? '').slice(0, 1000));
      if (fields.jobId !== undefined) set.push('jobId', fields.jobId);
      if (fields.source !== undefined) set.push('source', fields.source);
      args.push(id, status, String(set.length / 2), ...set);
    }
    const [cutoff, max, ttl] = this.trimArgs(Date.now());
    await this.redis.hooklaneUpdateEventStatuses(this.base, cutoff, max, ttl, ...args);
  }

  /** Counts a replay and resolves to its number (1 for the first). */
  nextReplay(id: string): Promise<number> {
    return this.redis.hincrby(this.recordKey(id), 'replays', 1);
  }

  async get(id: string): Promise<EventRecord | undefined> {
    const [[, values], [, inline], [, ownKey]] = ((await this.redis
      .pipeline()
      .hmget(this.recordKey(id), ...RECORD_FIELDS)
      .hexists(this.recordKey(id), 'payload')
      .exists(this.payloadKey(id))
      .exec()) ?? []) as [[Error | null, (string | null)[]], [Error | null, number], [Error | null, number]];
    const record = toRecord(id, fieldsOf(values ?? []));
    // The trim marks what it drops; a payload gone by its own expiry is found missing here.
    return record && { ...record, payloadExpired: record.payloadExpired || (inline !== 1 && ownKey !== 1) };
  }

  /** The raw body Stripe sent, exactly as signed; undefined once it expired (by age or by bytes). */
  payload(id: string): Promise<string | undefined> {
    return readStoredPayload(this.redis, this.base, id);
  }

  /** Newest first. Uses the most selective index and filters the rest on the records. */
  async list(query: EventQuery): Promise<EventPage> {
    const key = this.indexKey(query);
    const statusIndex = key === this.failedKey || key === this.lostKey ? query.status : undefined;
    const events: EventRecord[] = [];
    const batch = Math.max(query.limit * 2, 50);
    let start = query.cursor ? `(${decodeCursor(query.cursor)}` : '+';
    for (let round = 0; round < MAX_SCAN_BATCHES; round += 1) {
      const members = await this.redis.zrevrangebylex(key, start, '-', 'LIMIT', 0, batch);
      const records = await this.readRecords(members);
      if (statusIndex) await this.repairStatusIndex(statusIndex, members.filter((_, i) => records[i]?.status !== statusIndex));
      for (let i = 0; i < members.length; i += 1) {
        const record = records[i];
        if (!record || !matches(record, query)) continue;
        events.push(record);
        if (events.length === query.limit) {
          const more = i < members.length - 1 || members.length === batch;
          return { events, nextCursor: more ? encodeCursor(members[i]!) : null };
        }
      }
      if (members.length < batch) return { events, nextCursor: null };
      start = `(${members[members.length - 1]!}`;
    }
    // Scanned enough for one request; the caller continues from where the scan stopped.
    return { events, nextCursor: encodeCursor(start.slice(1)) };
  }

  /** A status index keeps a record that left its status until a listing finds it (see UPDATE_STATUSES_SCRIPT). */
  private async repairStatusIndex(status: EventStatus, stale: string[]): Promise<void> {
    if (stale.length > 0) await this.redis.hooklaneRepairStatusIndex(this.base, status, ...stale);
  }

  private async readRecords(members: string[]): Promise<(EventRecord | undefined)[]> {
    if (members.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const member of members) pipeline.hmget(this.recordKey(idOf(member)), ...RECORD_FIELDS);
    const results = (await pipeline.exec()) ?? [];
    return results.map(([err, values], i) => (err ? undefined : toRecord(idOf(members[i]!), fieldsOf(values as (string | null)[]))));
  }
}

/** One EventIndex per Redis connection (its scripts are defined on the connection once). */
export const eventIndexFor = onePerConnection((redis, config: EventIndexConfig) => new EventIndex(redis, config));

/**
 * An event's stored payload, decoded: its record's `payload` field, or its own key (a payload longer than
 * INLINE_PAYLOAD_MAX, or one stored before payloads moved into records). One round trip. Also for code that
 * reads it without an EventIndex (the sandboxed processor): `base` is eventIndexBase(QUEUE_PREFIX).
 */
export async function readStoredPayload(redis: Redis, base: string, id: string): Promise<string | undefined> {
  const [[, inline], [, own]] = ((await redis.pipeline().hgetBuffer(`${base}:rec:${id}`, 'payload').getBuffer(`${base}:payload:${id}`).exec()) ?? []) as [
    [Error | null, Buffer | null],
    [Error | null, Buffer | null],
  ];
  const stored = inline ?? own;
  return stored ? decodePayload(stored) : undefined;
}
