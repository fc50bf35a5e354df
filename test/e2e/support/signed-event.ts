import { buildStripeEvent, signStripePayload } from '../../../src/dev/stripe-event-builder';

/** A payment_intent.succeeded event from Stripe's fixtures, about the payment intent `objectId`. */
export function paymentIntentEvent(objectId: string, account = 'acct_e2e_console'): { id: string; body: string } {
  const event = buildStripeEvent('payment_intent.succeeded', { account });
  (event.data.object as { id: string }).id = objectId;
  return { id: event.id, body: JSON.stringify(event) };
}

/** Delivers `body` to the webhook endpoint, signed the way Stripe signs it. */
export async function deliverWebhook(url: string, body: string, secret: string): Promise<Response> {
  return fetch(`${url}/webhooks/stripe`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'stripe-signature': signStripePayload(body, secret) },
    body,
  });
}

/** An event whose id, type, object and account are as long as real ones get: what a table must fit. */
export function longestEvent(): { id: string; body: string } {
  const event = buildStripeEvent('customer.subscription.trial_will_end', { account: 'acct_1DevDashboard0001' });
  (event.data.object as { id: string }).id = 'sub_1PgafyB7WZ01zgkWSjxsAJo3xyz';
  return { id: event.id, body: JSON.stringify(event) };
}
