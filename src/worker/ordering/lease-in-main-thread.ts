import { DelayedError, Worker, type Job, type Processor, type WorkerOptions } from 'bullmq';
import { isPayloadRef } from '../../events/event-record';
import { observeLeaseWait } from '../../metrics/prometheus';
import { eventTypeOf, orderedEventOf, type OrderedEvent, type OrderedRef } from './object-order';
import { dataWithPlace, type OrderPlace } from './order-place';
import { withObjectLease, type ObjectOrdering } from './with-object-lease';

/** Ordering as the worker's main thread runs it. */
export interface MainThreadOrdering extends ObjectOrdering {
  /** Whether a type has a handler: only those are ordered (a job of another type needs no lease). */
  handles(type: string): boolean;
  /** The stored payload (raw JSON) of a reference queued without its place (a replay); undefined once expired. */
  loadPayload(eventId: string): Promise<string | undefined>;
}

/**
 * A BullMQ Worker that takes each event's object lease in its main thread, then hands the job to the processor
 * (in the sandbox, or in-process) with its place in the job's data. The main thread already talks to Redis for
 * every job on one auto-pipelined connection; a sandbox thread would need its own connection and round trips
 * (docs/numbers.md, "Ordering and fairness"). Stepping aside is BullMQ's own moveToDelayed and DelayedError, here.
 */
export class OrderedWorker extends Worker {
  private readonly ordering: MainThreadOrdering;

  constructor(name: string, processor: string | Processor, opts: WorkerOptions, ordering: MainThreadOrdering) {
    // Started here rather than by BullMQ's constructor: no job may reach callProcessJob before `ordering` is set.
    super(name, processor, { ...opts, autorun: false });
    this.ordering = ordering;
    if (opts.autorun !== false) this.run().catch((err: unknown) => this.emit('error', err as Error));
  }

  /** When each job that stepped aside in this process first did: its lease wait, once it runs. */
  private readonly waitingSince = new Map<string, number>();

  protected override callProcessJob(job: Job, token: string, signal?: AbortSignal): Promise<unknown> {
    const id = job.id ?? '';
    return runInOrder(job, token, this.ordering, (placed) => {
      observeLeaseWait(this.leaseWaitOf(id));
      return super.callProcessJob(placed, token, signal);
    }).catch((err: unknown) => {
      if (err instanceof DelayedError) this.steppedAside(id);
      throw err;
    });
  }

  /** Seconds since the job first stepped aside here, 0 if it never did (most events: alone on their object). */
  private leaseWaitOf(id: string): number {
    const since = this.waitingSince.get(id);
    if (since === undefined) return 0;
    this.waitingSince.delete(id);
    return (Date.now() - since) / 1000;
  }

  /**
   * Remembers the first step-aside of a job. A job woken on another worker is measured from its first step-aside
   * there (an undercount); the map is bounded, oldest first, so jobs that never come back cannot grow it.
   */
  private steppedAside(id: string): void {
    if (this.waitingSince.has(id)) return;
    if (this.waitingSince.size >= MAX_TRACKED_WAITS) this.waitingSince.delete(this.waitingSince.keys().next().value as string);
    this.waitingSince.set(id, Date.now());
  }
}

const MAX_TRACKED_WAITS = 10_000;

async function runInOrder(job: Job, token: string, ordering: MainThreadOrdering, process: (job: Job) => Promise<unknown>): Promise<unknown> {
  const event = await orderedEventOfJob(job, ordering);
  if (!event) return process(job);
  // Only the first start uses the queue-time grant: a run after a stall or a retry acquires (a higher fence).
  const grant = job.attemptsStarted <= 1 ? (job.data as OrderedRef).grant : undefined;
  return withObjectLease(job, token, ordering, event, grant, (place) => process(withPlace(job, place)) as Promise<{ status: string }>);
}

/**
 * Where the job stands in its object's order: what the mover put in its data; for a reference without it (a
 * replay) what the stored payload names; for a job carrying the event itself, the event. Undefined: not ordered.
 */
async function orderedEventOfJob(job: Job, ordering: MainThreadOrdering): Promise<OrderedEvent | undefined> {
  const jobId = job.id ?? '';
  const data: unknown = job.data;
  if (!isPayloadRef(data)) {
    const type = eventTypeOf(data);
    return type !== undefined && ordering.handles(type) ? orderedEventOf(data, jobId) : undefined;
  }
  const { order } = data as OrderedRef;
  if (order) return { ...order, jobId };
  // A reference is named by its event's type: a type nobody handles needs no payload read.
  if (!ordering.handles(job.name)) return undefined;
  const raw = await ordering.loadPayload(data.payloadOf);
  // An expired or malformed payload: the processor fails the job and says why.
  if (raw === undefined) return undefined;
  try {
    return orderedEventOf(JSON.parse(raw), jobId);
  } catch {
    return undefined;
  }
}

/** The job as the processor gets it: the same job, its data with the place beside it (the queued data is unchanged). */
function withPlace(job: Job, place: OrderPlace): Job {
  return Object.create(job, { data: { value: dataWithPlace(job.data, place), enumerable: true, writable: true } }) as Job;
}
