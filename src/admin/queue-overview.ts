import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { readRedisMemoryInfo } from '../redis';
import type { IntakeLog } from '../events/intake-log';
import type { OpenRecords } from '../events/open-records';
import { JOB_STATES, type JobCounts, type Overview, type QueueOverview, type WorkerInfo } from './admin-types';
import { perMinuteCounts, seriesStart } from './throughput';

/** The console's throughput chart covers the last hour, one bar per minute. */
export const THROUGHPUT_MINUTES = 60;

function toWorkerInfo(client: Record<string, string>): WorkerInfo {
  return { name: client.rawname ?? client.name ?? '', addr: client.addr ?? '', ageSeconds: Number(client.age) || 0 };
}

/** The job that has waited longest sits at the tail of the wait list; `asc` reads from there. */
async function oldestWaitingAgeMs(queue: Queue, nowMs: number): Promise<number | null> {
  const [oldest] = await queue.getJobs(['waiting'], 0, 0, true);
  return oldest ? Math.max(0, nowMs - oldest.timestamp) : null;
}

async function readQueueOverview(queue: Queue, nowMs: number): Promise<QueueOverview> {
  const [counts, isPaused, workers, oldest, completed, failed] = await Promise.all([
    queue.getJobCounts(...JOB_STATES),
    queue.isPaused(),
    // CLIENT LIST under the hood; BullMQ names each worker's connection after its queue.
    queue.getWorkers(),
    oldestWaitingAgeMs(queue, nowMs),
    queue.getMetrics('completed', 0, THROUGHPUT_MINUTES - 1),
    queue.getMetrics('failed', 0, THROUGHPUT_MINUTES - 1),
  ]);
  return {
    name: queue.name,
    counts: Object.fromEntries(JOB_STATES.map((s) => [s, counts[s] ?? 0])) as JobCounts,
    isPaused,
    workers: workers.map(toWorkerInfo),
    oldestWaitingAgeMs: oldest,
    throughput: {
      startsAt: seriesStart(nowMs, THROUGHPUT_MINUTES),
      completed: perMinuteCounts(completed, nowMs, THROUGHPUT_MINUTES),
      failed: perMinuteCounts(failed, nowMs, THROUGHPUT_MINUTES),
    },
  };
}

/** Everything the console's overview shows, read in one pass. */
export async function readOverview(
  queues: readonly Queue[],
  intake: Pick<IntakeLog, 'backlog'>,
  openRecords: Pick<OpenRecords, 'summary'>,
  redis: Redis,
  nowMs = Date.now(),
): Promise<Overview> {
  const [perQueue, backlog, open, memory] = await Promise.all([
    Promise.all(queues.map((q) => readQueueOverview(q, nowMs))),
    intake.backlog(),
    openRecords.summary(nowMs),
    readRedisMemoryInfo(redis),
  ]);
  const events = { open: open.open, oldestOpenAgeMs: open.oldestAgeMs, lost: open.lost };
  return { generatedAt: new Date(nowMs).toISOString(), queues: perQueue, intake: backlog, events, redis: memory };
}
