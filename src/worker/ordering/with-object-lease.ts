import { DelayedError } from 'bullmq';
import type { Logger } from '../../logger';
import type { ObjectOrder, OrderedEvent, QueueTimeGrant, ReleaseOutcome } from './object-order';
import type { OrderPlace } from './order-place';

/** The job as the wrapper needs it: BullMQ's Job, in the worker's main thread. */
export interface LeasedJob {
  id?: string | undefined;
  attemptsMade: number;
  opts?: { attempts?: number } | undefined;
  moveToDelayed?(timestamp: number, token?: string): Promise<void>;
}

/** What a processor needs to run jobs in their objects' order. */
export interface ObjectOrdering {
  order: ObjectOrder;
  /** How long a job that finds its object busy waits before it is tried again (unless woken sooner). */
  stepAsideMs: number;
  /** Moves the named (delayed) job to the queue now: the next in line when a lease is released. */
  wake(jobId: string): Promise<void>;
  logger: Logger;
}

/** Whether a failure ends the job (then its event leaves the object's line) or it will run again. */
function isFinal(err: unknown, job: LeasedJob): boolean {
  return (err as Error | null)?.name === 'UnrecoverableError' || job.attemptsMade + 1 >= (job.opts?.attempts ?? 1);
}

/**
 * Runs `run` (in the worker's main thread: OrderedWorker) holding the lease of the event's object, granted to the
 * oldest event waiting for it. A job that carries a queue-time grant (it was alone on its object when queued)
 * holds the lease already: no acquire, no renewal (the lease lasts while BullMQ's lock on the job does), and its
 * release is always off the job's path. A job that finds the lease taken, or an older event waiting, steps
 * aside: it moves itself back to the delayed set (see stepAside) and throws BullMQ's DelayedError, which spends
 * no attempt. An acquired lease is renewed every third of its length while `run` runs. Released when `run`
 * ends: `done` makes the event the newest processed, a result with status `superseded` does not, and a failure
 * that will be retried keeps the event first in line. The job waits for the release only when other events of
 * the object were waiting: otherwise it completes while the release is on its way (one round trip less per
 * event; a worker that dies in between leaves a lease that expires in leaseMs).
 */
export async function withObjectLease<R extends { status: string }>(
  job: LeasedJob,
  token: string | undefined,
  ordering: ObjectOrdering,
  event: OrderedEvent,
  queueTimeGrant: QueueTimeGrant | undefined,
  run: (place: OrderPlace) => Promise<R>,
): Promise<R> {
  const grant = queueTimeGrant ? { ...queueTimeGrant, othersWaiting: 0 } : await ordering.order.acquire(event);
  if (!('fence' in grant)) return stepAside(job, token, ordering, event, grant.reason, grant.place);
  const renewal = queueTimeGrant ? undefined : setInterval(() => {
    ordering.order.renew(event, grant.fence).then(
      (held) => {
        if (!held) ordering.logger.warn({ objectId: event.objectId, fence: grant.fence }, 'object lease lost while the handler runs');
      },
      (err: unknown) => ordering.logger.warn({ err: (err as Error).message, objectId: event.objectId }, 'object lease renewal failed'),
    );
  }, Math.max(1, Math.floor(ordering.order.options.leaseMs / 3)));
  renewal?.unref?.();
  let outcome: ReleaseOutcome = 'retry';
  try {
    const result = await run({ outOfOrder: grant.outOfOrder, lease: { objectId: event.objectId, fence: grant.fence } });
    outcome = result.status === 'superseded' ? 'superseded' : 'done';
    return result;
  } catch (err) {
    outcome = isFinal(err, job) ? 'failed' : 'retry';
    throw err;
  } finally {
    clearInterval(renewal);
    // With others of the object waiting the job ends after the handoff (release, then wake the next); alone, the
    // release leaves its round trip off the job's path: an event that arrives meanwhile finds the lease held,
    // steps aside and is woken by that release.
    const released = release(ordering, event, grant.fence, outcome);
    if (grant.othersWaiting > 0) await released;
  }
}

/**
 * A release that fails (Redis away) only delays the object: the lease expires after leaseMs, and the entry of
 * a finished job is dropped by the next acquire. The job's own outcome stands.
 */
async function release(ordering: ObjectOrdering, event: OrderedEvent, fence: number, outcome: ReleaseOutcome): Promise<void> {
  try {
    const { next } = await ordering.order.release(event, fence, outcome);
    // Not awaited: a wake that finds the next job stepping aside tries again a step later (ordering-runtime.ts).
    if (next && next !== event.jobId) ordering.wake(next).catch(() => undefined);
  } catch (err) {
    ordering.logger.warn({ err: (err as Error).message, objectId: event.objectId }, 'object lease release failed; it expires on its own');
  }
}

/** How many times ORDERING_STEP_ASIDE_MS a job behind an older event waits unless woken. */
const OLDER_WAIT_STEPS = 20;

/**
 * Each release wakes the next in line (and a wake that finds it still stepping aside tries again), so a job
 * behind an older event would only poll for nothing: it waits 20 steps, the fallback for a wake that never came
 * (an older entry whose job is gone is dropped by the next acquire). Polling faster let the newer events of a
 * shared object, queued with better priorities than their head, take most of a worker's turns (hundreds of
 * step-asides a second, measured). A job first in line whose lease another run holds waits one step: the
 * holder's release wakes it, or the lease runs out.
 */
async function stepAside(job: LeasedJob, token: string | undefined, ordering: ObjectOrdering, event: OrderedEvent, reason: string, place: number): Promise<never> {
  // Without BullMQ's move (a processor called outside a worker) the job fails this attempt and retries with backoff.
  if (!job.moveToDelayed || !token) throw new Error(`object ${event.objectId} is busy (${reason}); retrying`);
  await job.moveToDelayed(Date.now() + ordering.stepAsideMs * (reason === 'older' ? OLDER_WAIT_STEPS : 1), token);
  if (ordering.logger.isLevelEnabled('debug')) ordering.logger.debug({ objectId: event.objectId, reason, place, eventId: event.eventId }, 'object busy; stepping aside');
  throw new DelayedError();
}
