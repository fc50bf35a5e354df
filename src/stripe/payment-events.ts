import type { Redis } from 'ioredis';
import { eventIndexFor, type EventIndexConfig } from '../events/event-index';
import { withRedisDeadline } from '../jobs';
import type { PaymentEventsLookup } from '../web/payment-status-routes';

// A payment has a handful of events (created, processing, succeeded, refunds...); this is plenty.
const MAX_EVENTS = 100;

/**
 * The payment page's view of the event index: the events about one object that Stripe delivered for the
 * caller's account (`event.account`, which Stripe sets on events of accounts that installed the app).
 */
export function paymentEventsFromIndex(redis: Redis, config: EventIndexConfig, deadlineMs: number): PaymentEventsLookup {
  const index = eventIndexFor(redis, config);
  return async ({ objectId, accountId }) => {
    const page = await withRedisDeadline(redis, deadlineMs, () =>
      index.list({ objectId, account: accountId, limit: MAX_EVENTS }),
    );
    return page.events.map(({ id, type, status, attempts, lastError, created, receivedAt }) => ({
      id,
      type,
      status,
      attempts,
      lastError,
      created: created ?? receivedAt,
      receivedAt,
    }));
  };
}
