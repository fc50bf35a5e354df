import type { Redis } from 'ioredis';
import type Stripe from 'stripe';
import type { Config } from '../config';
import { AppError } from '../errors';
import { eventIndexFor } from '../events/event-index';
import { summariseEvent } from '../events/event-record';
import { withRedisDeadline } from '../jobs';
import { addLogContext, type Logger } from '../logger';
import { QUEUE_NAMES, type Queues } from '../queues';
import { verifyStripeSignature } from './webhook-signature';

export interface WebhookIntakeDeps {
  config: Pick<
    Config,
    | 'STRIPE_WEBHOOK_SECRET'
    | 'STRIPE_WEBHOOK_TOLERANCE_SECONDS'
    | 'ENQUEUE_TIMEOUT_MS'
    | 'QUEUE_PREFIX'
    | 'EVENT_INDEX_RETENTION_DAYS'
    | 'EVENT_INDEX_MAX_EVENTS'
  >;
  /** The producer connection: fails fast while Redis is away. */
  redis: Redis;
  queues: Pick<Queues, typeof QUEUE_NAMES.stripeEvents>;
  logger: Logger;
}

/** What to answer, independent of any HTTP framework. */
export interface WebhookAnswer {
  status: number;
  body: { received: true; duplicate: boolean };
  headers?: Record<string, string>;
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
 * Enqueues exactly once: (1) a known id is a duplicate at the cost of one round trip; (2) the job is
 * added with jobId = event id, which BullMQ ignores when it exists, so concurrent redeliveries collapse
 * onto one job; (3) the index record is created SET-NX, and whoever creates it answers duplicate: false.
 * The add comes before the record, so a recorded event always has its job.
 */
async function enqueueOnce(deps: WebhookIntakeDeps, event: Stripe.Event, rawBody: Buffer): Promise<boolean> {
  const index = eventIndexFor(deps.redis, deps.config);
  if (await index.has(event.id)) return true;
  await deps.queues[QUEUE_NAMES.stripeEvents].add(event.type, event, { jobId: event.id });
  const created = await index.record(summariseEvent(event), rawBody.toString('utf8'));
  return !created;
}

/**
 * The webhook hot path, free of Express so a bare node:http server can call it: verifies the signature
 * against every configured secret, then stores the event exactly once within ENQUEUE_TIMEOUT_MS.
 * Throws AppError (400 SIGNATURE_*, 503 WEBHOOK_NOT_CONFIGURED or REDIS_UNAVAILABLE); never stores an
 * unverified body.
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
  addLogContext({ eventId: event.id, ...(event.account ? { accountId: event.account } : {}) });
  const duplicate = await withRedisDeadline(deps.redis, deps.config.ENQUEUE_TIMEOUT_MS, () =>
    enqueueOnce(deps, event, rawBody),
  );
  return { status: 200, body: { received: true, duplicate } };
}
