import type { Redis } from 'ioredis';
import type Stripe from 'stripe';
import type { Config } from '../config';
import { AppError } from '../errors';
import { intakeLogFor } from '../events/intake-log';
import { withRedisDeadline } from '../jobs';
import type { Logger } from '../logger';
import { coalesceWritesThisTurn, waitForReplicasThisTurn } from '../redis';
import type { MemoryHighWater } from '../redis-memory-guard';
import { logFields, traceIntake, tracingOn, type IntakeTrace } from '../telemetry/tracing';
import type { ThinNotification } from './stripe-fetcher';
import { verifyStripeSignature } from './webhook-signature';

export interface WebhookIntakeDeps {
  config: Pick<
    Config,
    | 'STRIPE_WEBHOOK_SECRET'
    | 'STRIPE_WEBHOOK_TOLERANCE_SECONDS'
    | 'ENQUEUE_TIMEOUT_MS'
    | 'QUEUE_PREFIX'
    | 'EVENT_INDEX_RETENTION_DAYS'
    | 'DEDUP_WINDOW_HOURS'
    | 'INTAKE_MIN_REPLICAS'
    | 'INTAKE_REPLICA_TIMEOUT_MS'
  >;
  /** The producer connection: fails fast while Redis is away. */
  redis: Redis;
  logger: Logger;
  /** Redis over its high-water mark: nothing is appended (absent: no mark but maxmemory itself). */
  memoryGuard?: MemoryHighWater;
}

/** What to answer, independent of any HTTP framework, and the ids the caller's log line carries. */
export interface WebhookAnswer {
  status: number;
  body: { received: true; duplicate: boolean };
  headers?: Record<string, string>;
  eventId: string;
  /** The connected account the event is about (Connect events only). */
  accountId?: string;
  /** The delivery's trace, for its log line (only while tracing). */
  trace?: { trace_id?: string; span_id?: string };
}

// Stripe's event ids are evt_ + alphanumerics (test-mode thin events: evt_test_...). Anything else is refused
// before it is stored: an all-digit id is a job id BullMQ refuses (it would be dead-lettered after its 200),
// and the id keys Redis records and jobs, so ':' and spaces are out. '_' and '-' stay allowed after evt_ for
// ids of our own making (bench and replay tooling).
const EVENT_ID = /^evt_[A-Za-z0-9][A-Za-z0-9_-]{0,250}$/;
const EVENT_TYPE = /^[a-z0-9_.]{1,255}$/;
// v2 types can name a sub-resource: `v2.core.account[requirements].updated`.
const THIN_EVENT_TYPE = /^[a-z0-9_.[\]]{1,255}$/;

/**
 * The id a thin notification is stored under: its snapshot event's id when it has one (a `v1.*` type), so
 * the snapshot and thin deliveries of the same change (both destinations live while migrating) are one
 * event, whichever arrives first; else its own id.
 */
function thinEventKey(notification: ThinNotification): string {
  const candidate = notification as unknown as { id?: unknown; type?: unknown; snapshot_event?: unknown };
  if (typeof candidate.id !== 'string' || !EVENT_ID.test(candidate.id)) {
    throw new AppError('WEBHOOK_EVENT_INVALID', 'The event notification has no usable id.');
  }
  if (typeof candidate.type !== 'string' || !THIN_EVENT_TYPE.test(candidate.type)) {
    throw new AppError('WEBHOOK_EVENT_INVALID', 'The event notification has no usable type.');
  }
  if (candidate.snapshot_event === undefined || candidate.snapshot_event === null) return candidate.id;
  if (typeof candidate.snapshot_event !== 'string' || !EVENT_ID.test(candidate.snapshot_event)) {
    throw new AppError('WEBHOOK_EVENT_INVALID', 'The event notification\'s snapshot_event is not a usable event id.');
  }
  return candidate.snapshot_event;
}

/**
 * A thin notification's `created` (RFC 3339) in Unix seconds, which picks its dedup bucket. Stored under its
 * snapshot event's id, it uses its own `created` (the snapshot event's is not in it): if the two fall in
 * different hours, the pair is still one job (the job id is the event id) and one record.
 */
function thinCreated(notification: ThinNotification): number | null {
  const ms = typeof notification.created === 'string' ? Date.parse(notification.created) : NaN;
  return Number.isFinite(ms) ? Math.floor(ms / 1000) : null;
}

function assertStripeEvent(event: Stripe.Event): void {
  const candidate = event as unknown as { id?: unknown; type?: unknown; object?: unknown };
  if (typeof candidate.id !== 'string' || !EVENT_ID.test(candidate.id)) {
    throw new AppError('WEBHOOK_EVENT_INVALID', 'The event has no Stripe event id (evt_ followed by letters and digits).');
  }
  if (typeof candidate.type !== 'string' || !EVENT_TYPE.test(candidate.type)) {
    throw new AppError('WEBHOOK_EVENT_INVALID', 'The event has no usable type.');
  }
}

/**
 * Stores the event exactly once: one script in one round trip answers whether the id is known (its index
 * record exists, or it is still in the intake log) and, if not, appends the raw body to the intake log.
 * Whoever appends answers duplicate: false. A worker's IntakeMover turns the entry into a job
 * (jobId = event id) and an index record within milliseconds; the web never waits for that.
 */
async function storeOnce(
  deps: WebhookIntakeDeps, eventId: string, rawBody: Buffer, created: number | null, thinId?: string, trace?: ReturnType<IntakeTrace['begin']>,
): Promise<boolean> {
  // Every delivery handled in this event-loop turn shares one socket write to Redis.
  coalesceWritesThisTurn(deps.redis);
  const log = intakeLogFor(deps.redis, deps.config);
  const appended = thinId === undefined
    ? await log.append(eventId, rawBody, Date.now(), created, trace)
    : await log.appendThin(eventId, thinId, rawBody, Date.now(), created, trace);
  await assertReplicated(deps);
  return !appended;
}

/**
 * With INTAKE_MIN_REPLICAS, a 200 waits until that many replicas have the event (ElastiCache replicates
 * asynchronously: a failover would otherwise lose acknowledged events). Sent after the script's answer, on
 * the same connection, so it covers the script however ioredis sent it (EVALSHA, or EVAL after NOSCRIPT).
 * Duplicates wait too: the first delivery may have been answered 503 by this check.
 * On a 503 here the event IS in the primary's log and will be processed; Stripe's retry is then a duplicate
 * and answered 200 once the replicas have caught up. That is right: the 200 still means "stored on enough
 * copies", and the event is processed once.
 */
async function assertReplicated(deps: WebhookIntakeDeps): Promise<void> {
  const wanted = deps.config.INTAKE_MIN_REPLICAS;
  // The fast path: without required replicas no WAIT is sent at all.
  if (wanted === 0) return;
  const acknowledged = await waitForReplicasThisTurn(deps.redis, wanted, deps.config.INTAKE_REPLICA_TIMEOUT_MS);
  if (acknowledged < wanted) {
    throw new AppError(
      'INTAKE_NOT_REPLICATED',
      `The event reached the Redis primary but ${acknowledged} of ${wanted} required replica(s) within ${deps.config.INTAKE_REPLICA_TIMEOUT_MS} ms; retry later.`,
      { headers: { 'Retry-After': '5' } },
    );
  }
}

/**
 * The webhook hot path, free of Express so a bare node:http server can call it: verifies the signature
 * against every configured secret, then stores the event exactly once within ENQUEUE_TIMEOUT_MS.
 * Throws AppError (400 SIGNATURE_*, 503 WEBHOOK_NOT_CONFIGURED or REDIS_UNAVAILABLE, also while Redis is over
 * its memory high-water mark); never stores an unverified body.
 */
export function acceptStripeWebhook(deps: WebhookIntakeDeps, rawBody: Buffer, signatureHeader: string | undefined): Promise<WebhookAnswer> {
  // Untraced (no OTLP endpoint), the delivery takes exactly the path it took before tracing existed.
  if (!tracingOn()) return accept(deps, rawBody, signatureHeader);
  return traceIntake(async (trace) => {
    const answer = await accept(deps, rawBody, signatureHeader, trace);
    return { ...answer, duplicate: answer.body.duplicate, trace: logFields(trace.span()) };
  });
}

async function accept(deps: WebhookIntakeDeps, rawBody: Buffer, signatureHeader: string | undefined, trace?: IntakeTrace): Promise<WebhookAnswer> {
  const secrets = deps.config.STRIPE_WEBHOOK_SECRET;
  if (!secrets?.length) {
    throw new AppError('WEBHOOK_NOT_CONFIGURED', 'Set STRIPE_WEBHOOK_SECRET (whsec_...) to accept Stripe webhooks.');
  }
  const delivery = verifyStripeSignature(rawBody, signatureHeader, {
    secrets,
    toleranceSeconds: deps.config.STRIPE_WEBHOOK_TOLERANCE_SECONDS,
  });
  if (delivery.kind === 'thin') return acceptThin(deps, delivery.notification, rawBody, trace);
  const { event } = delivery;
  assertStripeEvent(event);
  // Verified and well formed: from here on the delivery is traced (nothing before is, see IntakeTrace).
  const carrier = trace?.begin();
  if (deps.memoryGuard?.full) {
    throw new AppError('REDIS_UNAVAILABLE', 'Redis is near its maxmemory; nothing was stored. Retry later.', { headers: { 'Retry-After': '5' } });
  }
  const duplicate = await withRedisDeadline(deps.redis, deps.config.ENQUEUE_TIMEOUT_MS, () =>
    storeOnce(deps, event.id, rawBody, typeof event.created === 'number' && Number.isFinite(event.created) ? event.created : null, undefined, carrier),
  );
  return { status: 200, body: { received: true, duplicate }, eventId: event.id, ...(event.account ? { accountId: event.account } : {}) };
}

/** A verified thin notification: stored once under its key, the raw notification kept for the worker to fetch with. */
async function acceptThin(deps: WebhookIntakeDeps, notification: ThinNotification, rawBody: Buffer, trace?: IntakeTrace): Promise<WebhookAnswer> {
  const key = thinEventKey(notification);
  const carrier = trace?.begin();
  if (deps.memoryGuard?.full) {
    throw new AppError('REDIS_UNAVAILABLE', 'Redis is near its maxmemory; nothing was stored. Retry later.', { headers: { 'Retry-After': '5' } });
  }
  const duplicate = await withRedisDeadline(deps.redis, deps.config.ENQUEUE_TIMEOUT_MS, () =>
    storeOnce(deps, key, rawBody, thinCreated(notification), notification.id, carrier),
  );
  const account = typeof notification.context === 'string' && notification.context.startsWith('acct_') ? notification.context : undefined;
  return { status: 200, body: { received: true, duplicate }, eventId: key, ...(account ? { accountId: account } : {}) };
}
