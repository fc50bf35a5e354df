import type { Redis } from 'ioredis';
import type Stripe from 'stripe';
import type { Config } from '../config';
import { AppError } from '../errors';
import { intakeLogFor } from '../events/intake-log';
import { withRedisDeadline } from '../jobs';
import type { Logger } from '../logger';
import { coalesceWritesThisTurn } from '../redis';
import type { MemoryHighWater } from '../redis-memory-guard';
import { verifyStripeSignature } from './webhook-signature';

export interface WebhookIntakeDeps {
  config: Pick<
    Config,
    | 'STRIPE_WEBHOOK_SECRET'
    | 'STRIPE_WEBHOOK_TOLERANCE_SECONDS'
    | 'ENQUEUE_TIMEOUT_MS'
    | 'QUEUE_PREFIX'
    | 'EVENT_INDEX_RETENTION_DAYS'
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
}

// A BullMQ job id may not contain ':' and the id keys Redis records; Stripe's are evt_ + alphanumerics.
const EVENT_ID = /^[A-Za-z0-9_-]{1,255}$/;
const EVENT_TYPE = /^[a-z0-9_.]{1,255}$/;

function assertStripeEvent(event: Stripe.Event): void {
  const candidate = event as unknown as { id?: unknown; type?: unknown; object?: unknown };
  if (typeof candidate.id !== 'string' || !EVENT_ID.test(candidate.id)) {
    throw new AppError('WEBHOOK_EVENT_INVALID', 'The event has no usable id (letters, digits, _ and - only).');
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
async function storeOnce(deps: WebhookIntakeDeps, event: Stripe.Event, rawBody: Buffer): Promise<boolean> {
  // Every delivery handled in this event-loop turn shares one socket write to Redis.
  coalesceWritesThisTurn(deps.redis);
  const appended = await intakeLogFor(deps.redis, deps.config).append(event.id, rawBody);
  return !appended;
}

/**
 * The webhook hot path, free of Express so a bare node:http server can call it: verifies the signature
 * against every configured secret, then stores the event exactly once within ENQUEUE_TIMEOUT_MS.
 * Throws AppError (400 SIGNATURE_*, 503 WEBHOOK_NOT_CONFIGURED or REDIS_UNAVAILABLE, also while Redis is over
 * its memory high-water mark); never stores an unverified body.
 */
export async function acceptStripeWebhook(
  deps: WebhookIntakeDeps,
  rawBody: Buffer,
  signatureHeader: string | undefined,
): Promise<WebhookAnswer> {
  const secrets = deps.config.STRIPE_WEBHOOK_SECRET;
  if (!secrets?.length) {
    throw new AppError('WEBHOOK_NOT_CONFIGURED', 'Set STRIPE_WEBHOOK_SECRET (whsec_...) to accept Stripe webhooks.');
  }
  const event = verifyStripeSignature(rawBody, signatureHeader, {
    secrets,
    toleranceSeconds: deps.config.STRIPE_WEBHOOK_TOLERANCE_SECONDS,
  });
  assertStripeEvent(event);
  if (deps.memoryGuard?.full) {
    throw new AppError('REDIS_UNAVAILABLE', 'Redis is near its maxmemory; nothing was stored. Retry later.', { headers: { 'Retry-After': '5' } });
  }
  const duplicate = await withRedisDeadline(deps.redis, deps.config.ENQUEUE_TIMEOUT_MS, () =>
    storeOnce(deps, event, rawBody),
  );
  return { status: 200, body: { received: true, duplicate }, eventId: event.id, ...(event.account ? { accountId: event.account } : {}) };
}
