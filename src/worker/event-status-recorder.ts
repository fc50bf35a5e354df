import type { Job, Worker } from 'bullmq';
import type { EventIndex, StatusFields, StatusUpdate } from '../events/event-index';
import { isPayloadRef, type EventStatus } from '../events/event-record';
import type { Logger } from '../logger';

export interface StatusRecorderOptions {
  /** How long an update may wait for others to share its write. */
  flushAfterMs: number;
  /** A batch this large is written at once. */
  maxBatch: number;
  /** Updates kept while Redis is away; beyond it the oldest are dropped (and logged): memory stays bounded. */
  maxPending: number;
}

const DEFAULTS: StatusRecorderOptions = { flushAfterMs: 5, maxBatch: 500, maxPending: 50_000 };

interface RunningJob {
  /** What its `processing` update writes. */
  fields: StatusFields;
  startedAt: number;
  /** Already written as `processing`. */
  written: boolean;
}

/**
 * Keeps the event index's status in step with the stripe-events jobs, in the worker's main process, off
 * the job's own path: updates are coalesced per event (the latest status wins, fields merge) and written
 * in batches, one round trip per batch, at most `flushAfterMs` after the job moved. BullMQ's job state is
 * the authority; the index is what the API searches, and it follows within milliseconds.
 */
export class EventStatusRecorder {
  private pending = new Map<string, StatusUpdate>();
  /** Jobs running now, by event id; a job becomes a `processing` update only if it is still running at a write. */
  private running = new Map<string, RunningJob>();
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private readonly options: StatusRecorderOptions;

  constructor(
    private readonly index: Pick<EventIndex, 'setStatuses'>,
    private readonly logger: Logger,
    options: Partial<StatusRecorderOptions> = {},
  ) {
    this.options = { ...DEFAULTS, ...options };
  }

  /**
   * A job started. Most end within milliseconds, and then only their final status is written: one update
   * per job instead of two. One that has run for `flushAfterMs` when a write comes is written as `processing`.
   */
  started(id: string, fields: StatusFields): void {
    this.running.delete(id);
    this.running.set(id, { fields, startedAt: Date.now(), written: false });
    // Bounded like the updates: a job whose end this worker never hears of (lost lock) is forgotten here.
    if (this.running.size > this.options.maxPending) this.running.delete(this.running.keys().next().value!);
    this.schedule(this.options.flushAfterMs);
  }

  /** A job ended, or failed and waits for its retry: its status, with the fields that say how. */
  finished(id: string, status: EventStatus, fields: StatusFields): void {
    this.running.delete(id);
    this.note(id, status, fields);
  }

  note(id: string, status: EventStatus, fields: StatusFields = {}): void {
    const earlier = this.pending.get(id);
    // Re-inserted so the map's order stays oldest-first for the overflow rule below.
    this.pending.delete(id);
    this.pending.set(id, { id, status, fields: { ...earlier?.fields, ...fields } });
    if (this.pending.size > this.options.maxPending) {
      const [oldest] = this.pending.keys();
      this.pending.delete(oldest!);
      this.logger.warn({ eventId: oldest }, 'event status update dropped: too many waiting while Redis is away');
    }
    if (this.pending.size >= this.options.maxBatch) this.schedule(0);
    else this.schedule(this.options.flushAfterMs);
  }

  /** Writes everything noted so far; resolves when it is in Redis. */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    // One write at a time: the next batch waits for the previous one (and picks up what arrived meanwhile).
    this.writing = this.writing.then(() => this.writeBatches());
    return this.writing;
  }

  private schedule(delayMs: number): void {
    if (this.timer && delayMs > 0) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.flush(), delayMs);
  }

  /**
   * Writes what is pending now. Updates that arrive during the write wait for their own timer rather than
   * being written straight after it: under load that would turn into a write per round trip, with small
   * batches and a job's `processing` and final status written separately instead of coalescing.
   */
  private async writeBatches(): Promise<void> {
    this.noteLongRunning();
    let left = this.pending.size;
    while (left > 0 && this.pending.size > 0) {
      const batch = this.takeOldest(Math.min(left, this.options.maxBatch));
      left -= batch.length;
      try {
        await this.index.setStatuses(batch);
      } catch (err) {
        this.putBack(batch);
        this.logger.warn({ err: (err as Error).message, updates: batch.length }, 'event status write failed; will retry');
        this.schedule(1000);
        return;
      }
    }
  }

  /**
   * Jobs that have run for at least `flushAfterMs` become `processing` updates. A younger one most likely
   * ends before the next write (which its end schedules); if it does not, a write is scheduled for it.
   */
  private noteLongRunning(): void {
    const startedBy = Date.now() - this.options.flushAfterMs;
    // The map is in start order (started() re-inserts), so the first young job ends the scan.
    for (const [id, job] of this.running) {
      if (job.written) continue;
      if (job.startedAt > startedBy) {
        this.schedule(this.options.flushAfterMs);
        return;
      }
      job.written = true;
      this.note(id, 'processing', job.fields);
    }
  }

  /** Removes and returns up to `count` of the oldest updates, without copying the whole map. */
  private takeOldest(count: number): StatusUpdate[] {
    const batch: StatusUpdate[] = [];
    for (const update of this.pending.values()) {
      if (batch.length === count) break;
      batch.push(update);
    }
    for (const update of batch) this.pending.delete(update.id);
    return batch;
  }

  /** What a failed write held goes back; an update that arrived meanwhile wins, keeping the older fields it lacks. */
  private putBack(batch: StatusUpdate[]): void {
    for (const update of batch) {
      const newer = this.pending.get(update.id);
      this.pending.set(update.id, newer ? { ...newer, fields: { ...update.fields, ...newer.fields } } : update);
    }
  }
}

/**
 * The Stripe event a stripe-events job processes (a replay's job id differs from the event id). A thin
 * notification's record is under the key the intake stored it by: its snapshot event's id when it has one.
 */
function eventIdOf(job: Job | undefined): string | undefined {
  // A PayloadRef names the record's key itself (jobs queued before references carried the event).
  if (isPayloadRef(job?.data)) return job.data.payloadOf;
  const data = job?.data as { id?: unknown; object?: unknown; snapshot_event?: unknown } | null | undefined;
  if (data?.object === 'v2.core.event' && typeof data.snapshot_event === 'string') return data.snapshot_event;
  return typeof data?.id === 'string' ? data.id : undefined;
}

/**
 * The fields an update of this job writes besides its status. The record already holds the event's own job
 * id and no error until something else happens, so a first attempt of the event's own job writes only its
 * attempt count and any error (every field costs Redis time on every job); a replay job, or a job past its
 * first attempt, also writes its job id and, when it ends, replaces the error an earlier attempt left
 * (`lastError` undefined: a job that starts leaves it as it is).
 */
function fieldsOf(job: Job, id: string, attempts: number, lastError?: string | null): StatusFields {
  const jobId = job.id ?? id;
  const fields: StatusFields = { attempts };
  if (jobId !== id || attempts > 1) {
    fields.jobId = jobId;
    if (lastError !== undefined) fields.lastError = lastError;
  } else if (lastError) {
    fields.lastError = lastError;
  }
  return fields;
}

/** The final status a completed job's result says (runStripeEvent's `status`): ignored, superseded, or succeeded. */
export function completedStatus(result: unknown): Extract<EventStatus, 'succeeded' | 'ignored' | 'superseded'> {
  const status = (result as { status?: unknown } | null | undefined)?.status;
  return status === 'ignored' || status === 'superseded' ? status : 'succeeded';
}

/**
 * Records what happens to the worker's jobs: processing (if it has run for flushAfterMs at a write), then
 * succeeded, ignored, queued (a retry) or failed. BullMQ has counted the attempt by the time a job
 * completes or fails, so `attemptsMade` is the attempt that just ended.
 */
export function recordEventStatuses(worker: Worker, recorder: EventStatusRecorder): void {
  worker.on('active', (job) => {
    const id = eventIdOf(job);
    if (id) recorder.started(id, fieldsOf(job, id, job.attemptsMade + 1));
  });
  worker.on('completed', (job, result: unknown) => {
    const id = eventIdOf(job);
    if (id) recorder.finished(id, completedStatus(result), fieldsOf(job, id, job.attemptsMade, null));
  });
  worker.on('failed', (job, err) => {
    const id = eventIdOf(job);
    if (!id || !job) return;
    const final = err.name === 'UnrecoverableError' || job.attemptsMade >= (job.opts.attempts ?? 1);
    // Between retries the event waits in the queue again; only the last failure is `failed`.
    recorder.finished(id, final ? 'failed' : 'queued', fieldsOf(job, id, job.attemptsMade, err.message));
  });
}
