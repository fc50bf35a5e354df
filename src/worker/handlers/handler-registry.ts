import { UnrecoverableError } from 'bullmq';
import type Stripe from 'stripe';
import type { HealthAlert } from '../../events/health-alerts';
import type { Logger } from '../../logger';
import type { FetchedThinEvent, ThinNotification } from '../../stripe/stripe-fetcher';

/** The event of one type, narrowed from stripe-node's union: `EventOfType<'customer.created'>`. */
export type EventOfType<T extends Stripe.Event.Type> = Extract<Stripe.Event, { type: T }>;

/** Outside systems a handler may use; built lazily by the processor, replaced by fakes in unit tests. */
export interface HandlerServices {
  /**
   * Deletes every stored OAuth token of the account's users (the Stripe App's Secret Store): how many
   * users had some, and whether Stripe said the account is no longer reachable (then nothing was left to delete).
   */
  deleteAccountSecrets(accountId: string): Promise<{ users: number; accountGone: boolean }>;
  /** Keeps a Stripe health alert for the console (`v2.core.health.event_generation_failure.resolved`). */
  recordHealthAlert(alert: HealthAlert): Promise<void>;
  /** Reads from Stripe's API through the budget every worker shares (StripeFetcher). */
  stripe: {
    snapshotEvent(id: string, account?: string | null): Promise<Stripe.Event>;
    thinEvent(notification: ThinNotification): Promise<FetchedThinEvent>;
    relatedObject(notification: ThinNotification): Promise<Record<string, unknown> | null>;
  };
}

export interface HandlerContext {
  /** 1 for the first run, 2 for the first retry... */
  attempt: number;
  /**
   * Appends a line to the job's log (shown by the console and `GET /api/jobs/:id`) with STRIPE_EVENT_JOB_LOGS=true;
   * otherwise writes it to the worker's log at info, with the event's and job's ids.
   */
  log(line: string): Promise<unknown>;
  progress(percent: number): Promise<void>;
  logger: Logger;
  services: HandlerServices;
  /**
   * The current state of the object the event is about, fetched from Stripe now (through the shared
   * budget; concurrent asks share one request). null when the event is about no retrievable object.
   */
  relatedObject(): Promise<Record<string, unknown> | null>;
  /** How the event reached hooklane: `thin` when a notification was turned into this full event. */
  delivery: 'snapshot' | 'thin';
  /**
   * An event of the same object created after this one was processed already (per-object ordering): the
   * state in this event is older than what the handler has seen. Handlers declared with `skipIfSuperseded`
   * never see it true (the event is recorded `superseded` instead).
   */
  outOfOrder: boolean;
  /**
   * The lease this run holds on the event's object, or null (no object, or ordering off). `fence` grows with
   * every grant of the object's lease: store it beside what the handler writes and refuse a write whose fence
   * is lower than the stored one, and a run that lost its lease (a stalled worker waking up) cannot overwrite
   * a newer run's state.
   */
  objectLease: { objectId: string; fence: number } | null;
}

/** What a handler returns becomes the job's return value. */
export type HandlerResult = Record<string, unknown>;

/** How a handler wants per-object ordering applied to it. */
export interface HandlerOptions {
  /**
   * An event older than one already processed for the same object is not handled: it is recorded
   * `superseded` (final, not an error, not retried). For handlers that write the object's latest state.
   */
  skipIfSuperseded?: boolean;
}

export interface EventHandler extends HandlerOptions {
  type: string;
  handle(event: Stripe.Event | FetchedThinEvent, ctx: HandlerContext): Promise<HandlerResult>;
}

/**
 * Declares the handler of one event type; the event arrives typed as that type
 * (`Stripe.PaymentIntentSucceededEvent` for 'payment_intent.succeeded'). Throw an Error for trouble that
 * may pass (it retries with backoff), `malformed(...)` for data that will never work (fails at once).
 */
export function defineHandler<T extends Stripe.Event.Type>(
  type: T,
  handle: (event: EventOfType<T>, ctx: HandlerContext) => Promise<HandlerResult>,
  options: HandlerOptions = {},
): EventHandler {
  return { type, ...options, handle: (event, ctx) => handle(event as EventOfType<T>, ctx) };
}

/**
 * Declares the handler of a v2 event type (`v2.core.account.updated`, ...): Stripe sends these only as thin
 * notifications, so the event arrives fetched (`GET /v2/core/events/:id`), with `data` when the type has some.
 */
export function defineV2Handler(
  type: `v2.${string}`,
  handle: (event: FetchedThinEvent, ctx: HandlerContext) => Promise<HandlerResult>,
  options: HandlerOptions = {},
): EventHandler {
  return { type, ...options, handle: (event, ctx) => handle(event as FetchedThinEvent, ctx) };
}

/** Data that no retry can fix: the job fails at once (BullMQ's UnrecoverableError). */
export function malformed(what: string): UnrecoverableError {
  return new UnrecoverableError(`malformed event: ${what}`);
}

/** A string field the handler cannot do without. */
export function requireString(value: unknown, what: string, prefix = ''): string {
  if (typeof value !== 'string' || !value.startsWith(prefix) || value.length === prefix.length) {
    throw malformed(`${what} must be a string${prefix ? ` starting with ${prefix}` : ''}`);
  }
  return value;
}

/** One handler per event type; a type without one is ignored. */
export class HandlerRegistry {
  private readonly byType = new Map<string, EventHandler>();

  constructor(handlers: readonly EventHandler[]) {
    for (const handler of handlers) {
      if (this.byType.has(handler.type)) throw new Error(`two handlers for ${handler.type}`);
      this.byType.set(handler.type, handler);
    }
  }

  /** The handler of `type`; a thin `v1.x` notification is the event `x`, so `x`'s handler runs for it. */
  get(type: string): EventHandler | undefined {
    return this.byType.get(type) ?? (type.startsWith('v1.') ? this.byType.get(type.slice(3)) : undefined);
  }

  types(): string[] {
    return [...this.byType.keys()];
  }
}
