import type { EventsEmulation } from '../../src/dev/stripe-emulator-events';
import { buildStripeEvent } from '../../src/dev/stripe-event-builder';
import { signPayload, type EventMaker, type SignedEvent } from './signed-events';

/** The thin destination's signing secret: the web gets it beside the snapshot one (STRIPE_WEBHOOK_SECRET=a,b). */
export const BENCH_THIN_SECRET = 'whsec_bench_thin_0123456789abcdef0123456789ab';

/**
 * Signed thin notifications (`v1.customer.created`), each under its snapshot event's id (the key the intake
 * stores it under, so `SignedEvent.id` finds its index record and job). With `events` (the emulator's
 * history), the emulator holds each full snapshot event and its object, as Stripe would, so a worker's fetch
 * finds it; without, the notifications stand alone (the intake never fetches).
 */
export function thinMaker(events?: EventsEmulation, secret = BENCH_THIN_SECRET): EventMaker {
  return (count, prefix) => {
    const timestamp = Math.floor(Date.now() / 1000);
    const made: SignedEvent[] = new Array(count);
    const clean = prefix.replace(/[^A-Za-z0-9]/g, '');
    for (let i = 0; i < count; i += 1) {
      const id = `evt_${clean}_${i.toString(36)}`;
      const notification = events ? events.addThinFor(newCustomerEvent(`cus_${clean}${i.toString(36)}`, { id, created: timestamp })) : standalone(id, clean, i, timestamp);
      const body = JSON.stringify(notification);
      made[i] = { id, body, signature: signPayload(body, secret, timestamp) };
    }
    return made;
  };
}

/**
 * A customer.created of a customer of its own (the fixtures' events all name one customer, and per-object ordering
 * would run the bench's thousands of events of it one after another, which is not what new customers' events do).
 */
export function newCustomerEvent(customerId: string, options: Parameters<typeof buildStripeEvent>[1] = {}): ReturnType<typeof buildStripeEvent> {
  const event = buildStripeEvent('customer.created', options);
  (event.data.object as { id: string }).id = customerId;
  return event;
}

/** What Stripe sends to a thin destination for a customer.created, without an emulator behind it. */
function standalone(snapshotId: string, prefix: string, i: number, timestamp: number): Record<string, unknown> {
  const customer = `cus_${prefix}${i.toString(36)}`;
  return {
    id: `evt_test_${prefix}t${i.toString(36)}`,
    object: 'v2.core.event',
    type: 'v1.customer.created',
    created: new Date(timestamp * 1000).toISOString(),
    livemode: false,
    related_object: { id: customer, type: 'customer', url: `/v1/customers/${customer}` },
    snapshot_event: snapshotId,
  };
}
