import { QueueKeys } from 'bullmq';
import { AppError } from './errors';

/**
 * The job ids a URL may name. A job lives at `<prefix>:<queue>:<id>` beside the queue's own keys
 * (`<prefix>:<queue>:meta`, `:id`, `:events`...), so an id taken from a URL unchecked lets a caller read
 * (or, through the admin actions, act on) BullMQ's internal keys: `GET /api/jobs/meta` answered the
 * queue's meta hash as a job. Every id hooklane makes fits: UUIDs, Stripe event ids (`evt_...`),
 * replays (`evt_...-replay-1`), BullMQ's own numeric ids. (A BullMQ job scheduler's ids, `repeat:...`, would
 * not: hooklane has none; one that adds them must widen this with care.)
 */
const JOB_ID = /^[A-Za-z0-9_-]{1,255}$/;

// The queue's key names, from BullMQ itself (so an upgrade that adds one is covered), plus those its
// scripts build outside QueueKeys (`metrics:<state>`, the legacy `priority` set, `dn:` deduplication
// next-keys), `waiting` (what BullMQ calls `wait` in its API), and hooklane's own `idempotency:` records.
// A job id equal to any of them would alias the key itself or, through a job's sub-keys (`<id>:logs`,
// `<id>:failed`...), keys beneath it.
const RESERVED = new Set([
  ...Object.keys(new QueueKeys().getKeys('queue')),
  'metrics',
  'priority',
  'dn',
  'waiting',
  'idempotency',
]);

export function isValidJobId(id: string): boolean {
  return JOB_ID.test(id) && !RESERVED.has(id);
}

/** The job id named in a URL, or 404 JOB_NOT_FOUND: an id that cannot be a job's is, to a caller, no job. */
export function jobIdFromUrl(id: unknown): string {
  if (typeof id === 'string' && isValidJobId(id)) return id;
  throw new AppError('JOB_NOT_FOUND', 'No job with that id.');
}
