import type { Redis } from 'ioredis';
import type Stripe from 'stripe';
import { SingleFlight, StripeApiBudget } from './stripe-api-budget';

/** A thin event as the intake stored it (verified there): what `parseEventNotification` returns, as JSON. */
export interface ThinNotification {
  id: string;
  object: 'v2.core.event';
  type: string;
  created: string;
  livemode?: boolean;
  context?: string;
  related_object?: { id: string; type: string; url: string } | null;
  snapshot_event?: string;
}

/** The v2 event `GET /v2/core/events/:id` returns (`data` for v2 types; v1 types carry none). */
export type FetchedThinEvent = ThinNotification & { data?: Record<string, unknown>; changes?: Record<string, unknown> };

// Long enough for the processes that fetch the same object at once to share one answer, short enough
// that a handler asking for "the current state" gets what Stripe has now, give or take a moment.
const SHARED_CACHE_SECONDS = 5;

/**
 * Every read hooklane makes from Stripe's API for events: each HTTP request takes one slot of the shared
 * budget, concurrent reads of the same thing share one request (in this process, and across processes
 * through a short Redis cache of the answer), and a 429 backs off (StripeApiBudget).
 */
export class StripeFetcher {
  private readonly flights = new SingleFlight();

  constructor(
    /** Built with maxNetworkRetries 0: retries go through the budget. */
    private readonly stripe: Stripe,
    private readonly budget: StripeApiBudget,
    private readonly redis: Redis,
    private readonly keyPrefix: string,
  ) {}

  /** The snapshot event `evt_...` (the full v1 event a thin `v1.*` notification points at). */
  snapshotEvent(id: string, account?: string | null): Promise<Stripe.Event> {
    return this.shared(`event:${account ?? ''}:${id}`, () =>
      this.stripe.events.retrieve(id, undefined, account ? { stripeAccount: account } : undefined),
    );
  }

  /** The full v2 event of a notification, through stripe-node's own `fetchEvent()`. */
  thinEvent(notification: ThinNotification): Promise<FetchedThinEvent> {
    const parsed = this.stripe.parseEventNotificationWithoutVerification(JSON.stringify(notification));
    return this.shared(`v2event:${notification.id}`, () => parsed.fetchEvent() as unknown as Promise<FetchedThinEvent>);
  }

  /** The current state of the notification's related object (`fetchRelatedObject()`), or null when it has none. */
  relatedObject(notification: ThinNotification): Promise<Record<string, unknown> | null> {
    if (!notification.related_object) return Promise.resolve(null);
    // Every notification type with a related object has fetchRelatedObject(); the union's few without one do not.
    const parsed = this.stripe.parseEventNotificationWithoutVerification(JSON.stringify(notification)) as unknown as {
      fetchRelatedObject(): Promise<Record<string, unknown> | null>;
    };
    const key = `object:${notification.context ?? ''}:${notification.related_object.url}`;
    return this.shared(key, () => parsed.fetchRelatedObject());
  }

  /** One page of `GET /v1/events` (reconciliation); never cached, always budgeted. */
  listEvents(params: Stripe.EventListParams & { delivery_success?: boolean }): Promise<Stripe.ApiList<Stripe.Event>> {
    return this.budget.run(() => this.stripe.events.list(params as Stripe.EventListParams));
  }

  private shared<T>(key: string, request: () => Promise<T>): Promise<T> {
    return this.flights.do(key, async () => {
      const cacheKey = `${this.keyPrefix}:stripe-cache:${key}`;
      const cached = await this.redis.get(cacheKey);
      if (cached !== null) return JSON.parse(cached) as T;
      const answer = await this.budget.run(request);
      const { lastResponse: _response, ...plain } = answer as T & { lastResponse?: unknown };
      await this.redis.set(cacheKey, JSON.stringify(plain), 'EX', SHARED_CACHE_SECONDS);
      return plain as T;
    });
  }
}
