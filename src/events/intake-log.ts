import type { Redis } from 'ioredis';
import type { Config } from '../config';
import { onePerConnection } from '../redis';

/**
 * The intake log: a Redis stream where a verified Stripe event waits between the web's 2xx and a worker
 * turning it into a job and an event index record (IntakeMover). The web's whole Redis work per delivery
 * is one script: is the id known (recorded, or still in the log)? if not, mark it and append the raw body.
 * Durability is the stream's (the AOF, like BullMQ's own keys); exactly-once is the marker plus the
 * record that replaces it.
 */
export const INTAKE_APPEND_SCRIPT = `
if redis.call('HEXISTS', KEYS[1], 'receivedAt') == 1 then return 0 end
if not redis.call('SET', KEYS[2], ARGV[2], 'NX', 'EX', ARGV[4]) then return 0 end
redis.call('XADD', KEYS[3], '*', 'id', ARGV[1], 'receivedAt', ARGV[2], 'body', ARGV[3])
return 1
`;

/** The consumer group every worker's mover reads the log in. */
export const INTAKE_GROUP = 'movers';

export interface IntakeEntry {
  /** The stream entry id. */
  entryId: string;
  eventId: string;
  /** When the web accepted it (ms since the epoch). */
  receivedAt: number;
  /** The raw body Stripe sent, exactly as signed. */
  body: string;
}

export interface IntakeBacklog {
  /** Entries in the log: accepted, not yet moved (or being moved). */
  waiting: number;
  /** Of those, read by a mover that has not finished with them. */
  pending: number;
}

type IntakeRedis = Redis & {
  hooklaneIntakeAppend(rec: string, seen: string, stream: string, id: string, receivedAt: string, body: Buffer | string, ttl: string): Promise<number>;
};

type StreamEntry = [id: string, fields: string[] | null];

export type IntakeLogConfig = Pick<Config, 'QUEUE_PREFIX' | 'EVENT_INDEX_RETENTION_DAYS'>;

/** The keys share the event index's hash tag: the append script reads its records, in one cluster slot. */
export const eventIndexBase = (prefix: string) => `${prefix}:{event-index}`;

function toEntry([entryId, fields]: StreamEntry): IntakeEntry {
  const map = new Map<string, string>();
  for (let i = 0; fields && i + 1 < fields.length; i += 2) map.set(fields[i]!, fields[i + 1]!);
  return { entryId, eventId: map.get('id') ?? '', receivedAt: Number(map.get('receivedAt')) || Date.now(), body: map.get('body') ?? '' };
}

export class IntakeLog {
  readonly stream: string;
  private readonly base: string;
  private readonly ttlSeconds: string;
  private readonly redis: IntakeRedis;

  constructor(redis: Redis, config: IntakeLogConfig) {
    this.base = eventIndexBase(config.QUEUE_PREFIX);
    this.stream = `${this.base}:intake`;
    // A marker outlives its entry only if the entry was lost; the retention bounds it.
    this.ttlSeconds = String(config.EVENT_INDEX_RETENTION_DAYS * 86_400);
    if (!('hooklaneIntakeAppend' in redis)) redis.defineCommand('hooklaneIntakeAppend', { numberOfKeys: 3, lua: INTAKE_APPEND_SCRIPT });
    this.redis = redis as IntakeRedis;
  }

  private seenKey(eventId: string): string {
    return `${this.base}:seen:${eventId}`;
  }

  /** Appends a verified event unless its id is known; resolves true when this call appended it. */
  async append(eventId: string, body: Buffer | string, receivedAtMs = Date.now()): Promise<boolean> {
    const rec = `${this.base}:rec:${eventId}`;
    const added = await this.redis.hooklaneIntakeAppend(rec, this.seenKey(eventId), this.stream, eventId, String(receivedAtMs), body, this.ttlSeconds);
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
   * Takes over entries another mover read and has not finished with for `minIdleMs` (it died or hung).
   * Entries deleted meanwhile are dropped from the pending list by Redis and not returned.
   */
  async claimStale(consumer: string, minIdleMs: number, count: number): Promise<IntakeEntry[]> {
    const [, entries] = (await this.redis.xautoclaim(this.stream, INTAKE_GROUP, consumer, minIdleMs, '0-0', 'COUNT', count)) as [string, StreamEntry[]];
    return entries.filter(([, fields]) => fields !== null).map(toEntry);
  }

  /** Removes moved entries and their markers (the index record keeps recognising the id), atomically. */
  async done(entries: readonly IntakeEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const ids = entries.map((e) => e.entryId);
    const markers = entries.filter((e) => e.eventId).map((e) => this.seenKey(e.eventId));
    const multi = this.redis.multi().xack(this.stream, INTAKE_GROUP, ...ids).xdel(this.stream, ...ids);
    if (markers.length) multi.del(...markers);
    const results = await multi.exec();
    const failed = results?.find(([err]) => err);
    if (failed) throw failed[0];
  }

  async backlog(): Promise<IntakeBacklog> {
    // A pipeline, not MULTI: Redis refuses every command queued in a transaction while it is over maxmemory,
    // and the console must show the backlog exactly then. Two reads a moment apart are close enough here.
    const [[, waiting], [, pending]] = ((await this.redis.pipeline().xlen(this.stream).xpending(this.stream, INTAKE_GROUP).exec()) ?? [
      [null, 0],
      [null, [0]],
    ]) as [[Error | null, number], [Error | null, [number] | null]];
    return { waiting: Number(waiting) || 0, pending: Number(pending?.[0]) || 0 };
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
