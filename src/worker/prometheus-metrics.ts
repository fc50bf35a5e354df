import type { Job, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '../config';
import { intakeLogFor } from '../events/intake-log';
import { eventTypeLabel, recordEventJob, recordOutOfOrder, recordSuperseded, type EventJobOutcome, type QueueDepths } from '../metrics/prometheus';
import { ALL_QUEUES, type Queues } from '../queues';

/**
 * Observes the Stripe event jobs' durations and end-to-end lag from BullMQ's `completed` and `failed`
 * events, in the worker's main process: the sandboxed processor (a thread or child process) has its own
 * copy of every metric, which no scrape would ever read. `handledType` names the handler that runs a type
 * (HandlerRegistry), so the type label only takes the values of registered handlers, else `other`.
 *
 * The lag runs from the job's timestamp, which the intake mover sets to the moment the web accepted the
 * webhook (the entry's receivedAt), to the job finishing for good.
 */
export function observeEventJobs(worker: Worker, handledType: (type: string) => string | undefined): void {
  const seconds = (fromMs: number | undefined, toMs: number) => Math.max(0, toMs - (fromMs ?? toMs)) / 1000;
  const record = (job: Job, outcome: EventJobOutcome) => {
    const finished = job.finishedOn ?? Date.now();
    const type = eventTypeLabel(job.name, handledType);
    recordEventJob(type, outcome, seconds(job.processedOn, finished), outcome === 'retried' ? undefined : seconds(job.timestamp, finished));
    return type;
  };
  worker.on('completed', (job) => {
    // The processor's result says what per-object ordering made of the event (runStripeEvent).
    const result = job.returnvalue as { status?: unknown; outOfOrder?: unknown } | null | undefined;
    if (result?.status === 'superseded') {
      const type = record(job, 'superseded');
      recordSuperseded(type);
      recordOutOfOrder(type);
      return;
    }
    const type = record(job, 'completed');
    if (result?.outOfOrder === true) recordOutOfOrder(type);
  });
  worker.on('failed', (job, err) => {
    if (!job) return;
    // The same test create-worker.ts logs by: attempts left and a transient error means BullMQ retries it.
    const willRetry = job.attemptsMade < (job.opts.attempts ?? 1) && err.name !== 'UnrecoverableError';
    record(job, willRetry ? 'retried' : 'failed');
  });
}

/** What a scrape of the worker reads: every queue's counts and the intake log's backlog, in parallel. */
export function queueDepthReader(config: Pick<Config, 'QUEUE_PREFIX' | 'EVENT_INDEX_RETENTION_DAYS'>, redis: Redis, queues: Queues) {
  const intake = intakeLogFor(redis, config);
  return async (): Promise<QueueDepths> => {
    const [counts, oldest, backlog] = await Promise.all([
      Promise.all(ALL_QUEUES.map((name) => queues[name].getJobCounts('waiting', 'active', 'delayed', 'failed'))),
      // Oldest first: the next job a worker takes (as the CloudWatch publisher reads it).
      Promise.all(ALL_QUEUES.map((name) => queues[name].getJobs(['waiting'], 0, 0, true))),
      intake.backlog(),
    ]);
    const now = Date.now();
    const depths: QueueDepths = { queues: {}, oldestWaitingSeconds: {}, intake: backlog };
    ALL_QUEUES.forEach((name, i) => {
      const c = counts[i]!;
      depths.queues[name] = { waiting: c.waiting ?? 0, active: c.active ?? 0, delayed: c.delayed ?? 0, failed: c.failed ?? 0 };
      const job = oldest[i]![0];
      depths.oldestWaitingSeconds[name] = job ? Math.max(0, now - job.timestamp) / 1000 : 0;
    });
    return depths;
  };
}
