import { Queue, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '../config';
import { openRecordsFor, type OpenRecord, type OpenRecords, type Settlement } from '../events/open-records';
import type { Logger } from '../logger';
import { QUEUE_NAMES, queueOptions } from '../queues';
import { completedStatus } from './event-status-recorder';
import { RunLock } from './run-lock';

export interface IndexSweepOptions {
  /** How often this process tries a run. */
  intervalMs: number;
  /** A record queued or processing for this long is checked against its job. */
  afterMs: number;
  /** Records checked per round trip. */
  batch: number;
  /** Batches per run at most: a run checks at most `batch × maxBatches` records. */
  maxBatches: number;
}

export interface SweepReport {
  checked: number;
  /** Their job runs or waits: checked again after another `afterMs`. */
  alive: number;
  /** Given their job's final status (the write that should have done it was lost). */
  repaired: number;
  /** Their job is gone and never finished. */
  lost: number;
  /** The record is gone (retention) or final already: dropped from the open set. */
  gone: number;
  /** Records that moved while the run looked at them: their own write won, nothing was changed. */
  skipped: number;
}

export interface IndexSweepDeps {
  records: Pick<OpenRecords, 'backfill' | 'due' | 'settle'>;
  queue: Pick<Queue, 'getJob' | 'getJobState'>;
  lock: Pick<RunLock, 'withLock'>;
  logger: Logger;
}

const DEFAULTS = { batch: 500, maxBatches: 10 };
// Index entries an older index's backfill walks per run (one script, a HGET each): 100,000 records take 50 runs.
const BACKFILL_STEP = 2000;

/** What the job says became of the event (see runStripeEvent's result and the recorder's statuses). */
async function settlementFor(record: OpenRecord, queue: IndexSweepDeps['queue']): Promise<Settlement> {
  // No record (retention took it), or a final status some writer left without leaving the open set: nothing to repair.
  if (record.status !== 'queued' && record.status !== 'processing') return { record, action: 'gone' };
  const jobId = record.jobId || record.id;
  // The state first (a set lookup): most jobs found are alive, in a backlog, and their payload is not needed.
  const state = await queue.getJobState(jobId);
  // Not in any of BullMQ's states: the job is gone (or a husk no worker will ever run).
  if (state === 'unknown') return { record, action: 'lost', lastError: `its job ${jobId} is gone and never finished` };
  if (state !== 'completed' && state !== 'failed') return { record, action: 'alive' };
  const job: Job | undefined = await queue.getJob(jobId);
  // Finished and removed by retention in between: the next run sees which.
  if (!job) return { record, action: 'alive' };
  if (state === 'failed') return { record, action: 'failed', attempts: job.attemptsMade, lastError: job.failedReason ?? '' };
  return { record, action: completedStatus(job.returnvalue), attempts: job.attemptsMade, lastError: '' };
}

/**
 * Makes the event index converge to what BullMQ knows, whatever died on the way: a worker killed with
 * status writes pending, a Redis restart, a mover crash. Every worker runs it every `intervalMs`; a Redis
 * lock lets one run at a time. A run takes the records that have been queued or processing for `afterMs`
 * (the open set, oldest first, bounded), looks up each one's job, and writes the job's final status, or
 * `lost` when the job is gone, or leaves it for later when the job is alive. Each write applies only if
 * the record has not moved since it was read, so a run never overwrites a fresher status.
 *
 * Bound: a record reaches its job's final status within `afterMs + 2 × intervalMs` of the job finishing
 * (one interval for a run to come, one more if the lock's holder died holding it), while a worker runs
 * and fewer than `batch × maxBatches` records fall due per interval. A backlog counts: each waiting job's
 * record is looked at once per `afterMs` (a set lookup, not its payload), so a run's work stays bounded.
 */
export class IndexSweep {
  private readonly options: IndexSweepOptions;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> = Promise.resolve();
  private stopped = true;

  constructor(
    private readonly deps: IndexSweepDeps,
    options: Pick<IndexSweepOptions, 'intervalMs' | 'afterMs'> & Partial<IndexSweepOptions>,
  ) {
    this.options = { ...DEFAULTS, ...options };
  }

  /** One run, if no other process is running one: resolves to its report, or undefined when locked out. */
  runOnce(): Promise<SweepReport | undefined> {
    return this.deps.lock.withLock(() => this.sweep());
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(this.options.intervalMs);
  }

  /** Stops the timer and waits for a run in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      const run = this.runOnce().then(
        () => this.schedule(this.options.intervalMs),
        (err: unknown) => {
          this.deps.logger.warn({ err: (err as Error).message }, 'index sweep failed; it runs again after the interval');
          this.schedule(this.options.intervalMs);
        },
      );
      this.running = run;
    }, delayMs);
    this.timer.unref();
  }

  private async sweep(): Promise<SweepReport> {
    await this.deps.records.backfill(BACKFILL_STEP);
    const report: SweepReport = { checked: 0, alive: 0, repaired: 0, lost: 0, gone: 0, skipped: 0 };
    // Each batch leaves the open set or moves to the back of it (alive), so the next one reads the next records.
    for (let round = 0; round < this.options.maxBatches; round += 1) {
      const checked = await this.settleBatch(report);
      if (checked < this.options.batch) break;
    }
    if (report.repaired > 0 || report.lost > 0) this.deps.logger.warn({ ...report }, 'index sweep settled records their workers never wrote');
    return report;
  }

  private async settleBatch(report: SweepReport): Promise<number> {
    const due = await this.deps.records.due(this.options.afterMs, this.options.batch);
    const settlements = await Promise.all(due.map((record) => settlementFor(record, this.deps.queue)));
    const applied = await this.deps.records.settle(settlements);
    report.checked += due.length;
    report.skipped += due.length - applied.length;
    for (const s of applied) {
      if (s.action === 'alive') report.alive += 1;
      else if (s.action === 'gone') report.gone += 1;
      else if (s.action === 'lost') {
        report.lost += 1;
        this.deps.logger.error({ eventId: s.record.id, jobId: s.record.jobId || s.record.id, was: s.record.status }, `event lost: ${s.lastError}`);
      } else report.repaired += 1;
    }
    return due.length;
  }
}

/** The sweep as a worker process runs it: on the worker's connection, started at once. */
export function startIndexSweep(config: Config, connection: Redis, logger: Logger): { stop(): Promise<void> } {
  const records = openRecordsFor(connection, config);
  const queue = new Queue(QUEUE_NAMES.stripeEvents, queueOptions(config, connection));
  // The lease is one interval: runs take milliseconds, and a holder that dies frees the lock by the next run.
  const lock = new RunLock(connection, records.lockKey, config.INDEX_SWEEP_INTERVAL_MS);
  const sweep = new IndexSweep(
    { records, queue, lock, logger: logger.child({ component: 'index-sweep' }) },
    { intervalMs: config.INDEX_SWEEP_INTERVAL_MS, afterMs: config.INDEX_SWEEP_AFTER_MS },
  );
  sweep.start();
  return {
    stop: async () => {
      await sweep.stop();
      await queue.close();
    },
  };
}
