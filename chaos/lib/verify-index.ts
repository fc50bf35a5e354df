import { existsSync, readFileSync } from 'node:fs';
import { Redis } from 'ioredis';

/**
 * The index sweep's timing for the fault suite, shortened like stalled-job recovery (production: 15 s and
 * 30 s) so a scenario's stuck records converge within the run.
 */
export const CHAOS_SWEEP = { intervalMs: 2000, afterMs: 5000 };
/** The stated bound: a record reaches its job's final status within INDEX_SWEEP_AFTER_MS + 2 × INDEX_SWEEP_INTERVAL_MS. */
export const CHAOS_INDEX_BOUND_MS = CHAOS_SWEEP.afterMs + 2 * CHAOS_SWEEP.intervalMs;
// Timer and polling slack on a machine shared with other work; the bound is the claim, this is not.
const MARGIN_MS = 3000;

export interface IndexReport {
  succeeded: number;
  ignored: number;
  failed: number;
  /** Marked lost by the index sweep: the job was gone and had never finished. Must be 0. */
  lost: number;
  /** Still queued or processing when the bound (plus margin) had passed. Must be 0. */
  notFinal: number;
  /** No record at all for an accepted event. Must be 0. */
  missing: number;
  /** From the moment every job had finished to the moment every record was final (null: never). */
  convergedAfterMs: number | null;
  /** Records the index sweep repaired from their job (their worker's write was lost), per the workers' logs. */
  repairedBySweep: number;
}

async function readStatuses(redis: Redis, prefix: string, ids: string[]): Promise<(string | null)[]> {
  const out: (string | null)[] = [];
  for (let i = 0; i < ids.length; i += 1000) {
    const pipeline = redis.pipeline();
    for (const id of ids.slice(i, i + 1000)) pipeline.hget(`${prefix}:{event-index}:rec:${id}`, 'status');
    for (const [, value] of (await pipeline.exec()) ?? []) out.push((value as string | null) ?? null);
  }
  return out;
}

const open = (status: string | null) => status === 'queued' || status === 'processing';

/** Sums `repaired` over the sweep's "settled" lines in the workers' log files (pino JSON lines). */
export function repairedInLogs(logFiles: string[]): number {
  let repaired = 0;
  for (const file of logFiles) {
    if (!existsSync(file)) continue;
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (!line.includes('index sweep settled')) continue;
      try {
        repaired += Number((JSON.parse(line) as { repaired?: number }).repaired) || 0;
      } catch {
        // A line cut by a SIGKILL: not one the sweep finished writing.
      }
    }
  }
  return repaired;
}

/**
 * What the event index says about every accepted event, called once BullMQ has finished their jobs: waits
 * up to the stated bound (plus margin) for every record to leave queued/processing, then counts.
 */
export async function verifyIndex(redisUrl: string, accepted: string[], workerLogs: string[], prefix = 'hooklane'): Promise<IndexReport> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
  try {
    const started = Date.now();
    const deadline = started + CHAOS_INDEX_BOUND_MS + MARGIN_MS;
    let statuses = await readStatuses(redis, prefix, accepted);
    while (statuses.some(open) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      statuses = await readStatuses(redis, prefix, accepted);
    }
    const count = (status: string) => statuses.filter((s) => s === status).length;
    const notFinal = statuses.filter(open).length;
    return {
      succeeded: count('succeeded'),
      ignored: count('ignored'),
      failed: count('failed'),
      lost: count('lost'),
      notFinal,
      missing: statuses.filter((s) => s === null).length,
      convergedAfterMs: notFinal === 0 ? Date.now() - started : null,
      repairedBySweep: repairedInLogs(workerLogs),
    };
  } finally {
    redis.disconnect();
  }
}

/** The index told the truth: every accepted event final, none lost or missing, failures as BullMQ has them. */
export function indexConverged(index: IndexReport, bullmqFailed: number): boolean {
  return index.notFinal === 0 && index.lost === 0 && index.missing === 0 && index.failed === bullmqFailed;
}

/** How many of `ids` the index records with each `source` (webhook, thin, reconciled, replay; `none`: no record). */
export async function countSources(redisUrl: string, ids: string[], prefix = 'hooklane'): Promise<Record<string, number>> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
  try {
    const counts: Record<string, number> = {};
    for (let i = 0; i < ids.length; i += 1000) {
      const pipeline = redis.pipeline();
      for (const id of ids.slice(i, i + 1000)) pipeline.hmget(`${prefix}:{event-index}:rec:${id}`, 'receivedAt', 'source');
      for (const [, value] of (await pipeline.exec()) ?? []) {
        const [receivedAt, source] = (value as (string | null)[] | null) ?? [];
        // A record written before sources existed has none: the index reads it as webhook.
        const key = receivedAt ? (source ?? 'webhook') : 'none';
        counts[key] = (counts[key] ?? 0) + 1;
      }
    }
    return counts;
  } finally {
    redis.disconnect();
  }
}
