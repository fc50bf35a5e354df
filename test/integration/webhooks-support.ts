import type Stripe from 'stripe';
import { buildStripeEvent, signStripePayload, type BuildEventOptions } from '../../src/dev/stripe-event-builder';

export const WEBHOOK_SECRET = 'whsec_integration_test_secret';

export interface Delivery {
  status: number;
  body: Record<string, unknown>;
  headers: Headers;
}

/** Posts `payload` to the app's webhook route as Stripe would, signed with `secret` unless a header is given. */
export async function deliver(
  baseUrl: string,
  payload: string,
  options: { secret?: string; signature?: string | null; timestamp?: number } = {},
): Promise<Delivery> {
  const signature =
    options.signature === undefined ? signStripePayload(payload, options.secret ?? WEBHOOK_SECRET, options.timestamp) : options.signature;
  const res = await fetch(`${baseUrl}/webhooks/stripe`, {
    method: 'POST',
    headers: { 'content-type': 'application/json; charset=utf-8', ...(signature === null ? {} : { 'stripe-signature': signature }) },
    body: payload,
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {}, headers: res.headers };
}

/** A fresh event of `type` from the fixtures and its payload as Stripe formats it. */
export function fixtureEvent(type: string, options: BuildEventOptions = {}): { event: Stripe.Event; payload: string } {
  const event = buildStripeEvent(type, options);
  return { event, payload: JSON.stringify(event, null, 2) };
}
