import type { Redis } from 'ioredis';
import type { Config } from '../config';
import { onePerConnection } from '../redis';
import type { EventStatus } from './event-record';
import { eventIndexBase } from './intake-log';
import { BACKFILL_OPEN_RECORDS_SCRIPT, DUE_OPEN_RECORDS_SCRIPT, SETTLE_OPEN_RECORDS_SCRIPT } from './open-records-scripts';

export type OpenRecordsConfig = Pick<Config, 'QUEUE_PREFIX' | 'EVENT_INDEX_RETENTION_DAYS'>;

/** A record that has been queued or processing for a while, as the sweep reads it. */
export interface OpenRecord {
  id: string;
  /** Its score in the open set: when its status last changed (ms); a settle applies only while it is unchanged. */
  score: string;
  /** Empty when the record is gone (trimmed by retention). */
  status: string;
  /** The job that processes it now: the event id, or a replay's job id. */
  jobId: string;
}

/** What the sweep decided about one open record. */
export type Settlement =
  | { record: OpenRecord; action: 'alive' | 'gone' }
  | { record: OpenRecord; action: Extract<EventStatus, 'succeeded' | 'ignored' | 'superseded' | 'failed' | 'lost'>; attempts?: number; lastError: string };

export interface OpenRecordsSummary {
  /** Records queued or processing now. */
  open: number;
  /** How long the oldest of them has been so, or null when there is none. */
  oldestAgeMs: number | null;
  /** Events marked lost, ever (their job was gone and had never finished). */
  lost: number;
}

type OpenRedis = Redis & {
  hooklaneDueOpenRecords(base: string, afterMs: string, limit: string): Promise<[number, string[]]>;
  hooklaneSettleOpenRecords(...args: string[]): Promise<number[]>;
  hooklaneBackfillOpenRecords(base: string, limit: string): Promise<number>;
};

/**
 * The event index's records that are not final yet (the open set, kept by the scripts that write
 * statuses), read and settled for the index sweep, and summarised for the console.
 */
export class OpenRecords {
  private readonly base: string;
  private readonly ttlSeconds: string;
  private readonly redis: OpenRedis;

  constructor(redis: Redis, config: OpenRecordsConfig) {
    this.base = eventIndexBase(config.QUEUE_PREFIX);
    this.ttlSeconds = String(config.EVENT_INDEX_RETENTION_DAYS * 86_400);
    if (!('hooklaneDueOpenRecords' in redis)) {
      redis.defineCommand('hooklaneDueOpenRecords', { numberOfKeys: 0, lua: DUE_OPEN_RECORDS_SCRIPT });
      redis.defineCommand('hooklaneSettleOpenRecords', { numberOfKeys: 0, lua: SETTLE_OPEN_RECORDS_SCRIPT });
      redis.defineCommand('hooklaneBackfillOpenRecords', { numberOfKeys: 0, lua: BACKFILL_OPEN_RECORDS_SCRIPT });
    }
    this.redis = redis as OpenRedis;
  }

  /** The key the sweep's lock lives under (beside the index, in its cluster slot). */
  get lockKey(): string {
    return `${this.base}:sweep-lock`;
  }

  /**
   * One bounded step of adding the records written before the open set existed (an index that predates the
   * sweep); resolves to how many index entries it walked, 0 once the whole index has been.
   */
  backfill(limit: number): Promise<number> {
    return this.redis.hooklaneBackfillOpenRecords(this.base, String(limit));
  }

  /** Open records unchanged for at least `afterMs`, oldest first, at most `limit`; one round trip. */
  async due(afterMs: number, limit: number): Promise<OpenRecord[]> {
    const [, flat] = await this.redis.hooklaneDueOpenRecords(this.base, String(afterMs), String(limit));
    const records: OpenRecord[] = [];
    for (let i = 0; i + 3 < flat.length; i += 4) {
      records.push({ id: flat[i]!, score: flat[i + 1]!, status: flat[i + 2]!, jobId: flat[i + 3]! });
    }
    return records;
  }

  /** Applies the settlements whose record has not moved since it was read; resolves to those applied. */
  async settle(settlements: readonly Settlement[]): Promise<Settlement[]> {
    if (settlements.length === 0) return [];
    const args: string[] = [this.base, this.ttlSeconds];
    for (const s of settlements) {
      const fields: string[] = [];
      if ('lastError' in s) {
        if (s.attempts !== undefined) fields.push('attempts', String(s.attempts));
        fields.push('lastError', s.lastError.slice(0, 1000));
      }
      args.push(s.record.id, s.record.score, s.action, String(fields.length / 2), ...fields);
    }
    const applied = await this.redis.hooklaneSettleOpenRecords(...args);
    return settlements.filter((_, i) => applied[i] === 1);
  }

  async summary(nowMs = Date.now()): Promise<OpenRecordsSummary> {
    const key = `${this.base}:idx:open`;
    // A pipeline, not MULTI: Redis 7 refuses every command queued in a transaction while it is out of
    // memory, and the overview must still load then (operators free memory from the console).
    const [[, open], [, oldest], [, lost]] = ((await this.redis.pipeline().zcard(key).zrange(key, 0, 0, 'WITHSCORES').get(`${this.base}:lost-total`).exec()) ?? []) as [
      [Error | null, number],
      [Error | null, string[]],
      [Error | null, string | null],
    ];
    const oldestScore = Number(oldest?.[1]);
    return {
      open: Number(open) || 0,
      oldestAgeMs: Number.isFinite(oldestScore) && oldest?.length ? Math.max(0, nowMs - oldestScore) : null,
      lost: Number(lost) || 0,
    };
  }
}

/** One OpenRecords per Redis connection (its scripts are defined on the connection once). */
export const openRecordsFor = onePerConnection((redis, config: OpenRecordsConfig) => new OpenRecords(redis, config));
