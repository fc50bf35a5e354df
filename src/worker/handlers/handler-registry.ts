import { UnrecoverableError } from 'bullmq';
import type Stripe from 'stripe';
import type { Logger } from '../../logger';

/** The event of one type, narrowed from stripe-node's union: `EventOfType<'customer.created'>`. */
export type EventOfType<T extends Stripe.Event.Type> = Extract<Stripe.Event, { type: T }>;

/** Outside systems a handler may use; built lazily by the processor, replaced by fakes in unit tests. */
export interface HandlerServices {
  /**
   * Deletes every stored OAuth token of the account's users (the Stripe App's Secret Store): how many
   * users had some, and whether Stripe said the account is no longer reachable (then nothing was left to delete).
   */
  deleteAccountSecrets(accountId: string): Promise<{ users: number; accountGone: boolean }>;
}

export interface HandlerContext {
  /** 1 for the first run, 2 for the first retry... */
  attempt: number;
  /** Appends a line to the job's log (shown by the console and `GET /api/jobs/:id`). */
  log(line: string): Promise<unknown>;
  progress(percent: number): Promise<void>;
  logger: Logger;
  services: HandlerServices;
}

/** What a handler returns becomes the job's return value. */
export type HandlerResult = Record<string, unknown>;

export interface EventHandler {
  type: Stripe.Event.Type;
  handle(event: Stripe.Event, ctx: HandlerContext): Promise<HandlerResult>;
}

/**
 * Declares the handler of one event type; the event arrives typed as that type
 * (`Stripe.PaymentIntentSucceededEvent` for 'payment_intent.succeeded'). Throw an Error for trouble that
 * may pass (it retries with backoff), `malformed(...)` for data that will never work (fails at once).
 */
export function defineHandler<T extends Stripe.Event.Type>(
  type: T,
  handle: (event: EventOfType<T>, ctx: HandlerContext) => Promise<HandlerResult>,
): EventHandler {
  return { type, handle: (event, ctx) => handle(event as EventOfType<T>, ctx) };
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

  get(type: string): EventHandler | undefined {
    return this.byType.get(type);
  }

  types(): string[] {
    return [...this.byType.keys()];
  }
}
