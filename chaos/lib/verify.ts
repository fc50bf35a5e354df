import { Redis } from 'ioredis';

export interface ProcessingReport {
  accepted: number;
  processed: number;
  /** Accepted (2xx) but not completed by the deadline: lost. */
  lost: number;
  failed: number;
  /** How many failed, by BullMQ's failedReason: what to look at when `failed` is not 0. */
  failedReasons: Record<string, number>;
  /** Events whose handler was started more than once (BullMQ's attemptsStarted > 1): at-least-once made visible. */
  startedMoreThanOnce: number;
  /** Jobs recovered by the stalled-job check. */
  stalledRecovered: number;
}

interface JobFields {
  finishedOn: string | null;
  failedReason: string | null;
  ats: string | null;
  stc: string | null;
}

async function readJobs(redis: Redis, prefix: string, ids: string[]): Promise<JobFields[]> {
  const out: JobFields[] = [];
  for (let i = 0; i < ids.length; i += 1000) {
    const pipeline = redis.pipeline();
    for (const id of ids.slice(i, i + 1000)) pipeline.hmget(`${prefix}:stripe-events:${id}`, 'finishedOn', 'failedReason', 'ats', 'stc');
    for (const [, value] of (await pipeline.exec()) ?? []) {
      const [finishedOn = null, failedReason = null, ats = null, stc = null] = (value as (string | null)[]) ?? [];
      out.push({ finishedOn, failedReason, ats, stc });
    }
  }
  return out;
}

/**
 * Waits until every accepted event's job has finished (or `timeoutMs`), then counts: processed, lost,
 * failed, started more than once. Reads BullMQ's job hashes directly (jobId = event id).
 */
export async function verifyProcessing(redisUrl: string, accepted: string[], timeoutMs = 90_000, prefix = 'hooklane'): Promise<ProcessingReport> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
  try {
    const deadline = Date.now() + timeoutMs;
    let jobs = await readJobs(redis, prefix, accepted);
    while (jobs.some((j) => !j.finishedOn) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      jobs = await readJobs(redis, prefix, accepted);
    }
    const finished = jobs.filter((j) => j.finishedOn);
    const failed = finished.filter((j) => j.failedReason).length;
    const failedReasons: Record<string, number> = {};
    for (const { failedReason } of finished) if (failedReason) failedReasons[failedReason] = (failedReasons[failedReason] ?? 0) + 1;
    return {
      accepted: accepted.length,
      processed: finished.length - failed,
      lost: jobs.length - finished.length,
      failed,
      failedReasons,
      startedMoreThanOnce: jobs.filter((j) => Number(j.ats ?? 0) > 1).length,
      stalledRecovered: jobs.filter((j) => Number(j.stc ?? 0) > 0).length,
    };
  } finally {
    redis.disconnect();
  }
}
