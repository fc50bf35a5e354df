import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import Stripe from 'stripe';
import { EVENT_OBJECT_FIXTURE } from './stripe-event-catalog';

type StripeEventType = keyof typeof EVENT_OBJECT_FIXTURE;
type Fixtures = { resources: Record<string, Record<string, unknown>> };

/**
 * Stripe's published example objects (github.com/stripe/openapi fixtures3.json, as stripe-mock uses),
 * vendored under fixtures/stripe/ (see SOURCE.txt there); STRIPE_FIXTURES_PATH points elsewhere.
 */
export function fixturesPath(): string {
  return process.env.STRIPE_FIXTURES_PATH ?? path.resolve(__dirname, '..', '..', 'fixtures', 'stripe', 'fixtures3.json');
}

let cached: Fixtures | undefined;
function fixtures(): Fixtures {
  cached ??= JSON.parse(readFileSync(fixturesPath(), 'utf8')) as Fixtures;
  return cached;
}

/** Every event type whose `data.object` the fixtures have an example of. */
export function producibleEventTypes(): StripeEventType[] {
  return (Object.keys(EVENT_OBJECT_FIXTURE) as StripeEventType[]).filter((type) => {
    const resource = EVENT_OBJECT_FIXTURE[type];
    return resource !== null && resource in fixtures().resources;
  });
}

export function isKnownEventType(type: string): type is StripeEventType {
  return type in EVENT_OBJECT_FIXTURE;
}

export interface BuildEventOptions {
  /** Connected account the event is about (`event.account`). */
  account?: string;
  id?: string;
  /** Unix seconds; defaults to now. */
  created?: number;
}

/**
 * A Stripe event as Stripe would deliver it: the fixtures' `event` envelope with the type's resource
 * fixture as `data.object`, a fresh id and timestamp, and the account when given.
 */
export function buildStripeEvent(type: string, options: BuildEventOptions = {}): Stripe.Event {
  if (!isKnownEventType(type)) throw new Error(`${type} is not a Stripe event type stripe-node knows`);
  const resource = EVENT_OBJECT_FIXTURE[type];
  const object = resource === null ? undefined : fixtures().resources[resource];
  if (!object) throw new Error(`the fixtures have no example of the object of ${type}`);
  const envelope = structuredClone(fixtures().resources.event ?? {});
  const event: Record<string, unknown> = {
    ...envelope,
    id: options.id ?? `evt_${randomBytes(12).toString('hex')}`,
    type,
    created: options.created ?? Math.floor(Date.now() / 1000),
    api_version: Stripe.API_VERSION,
    pending_webhooks: 1,
    data: { object: structuredClone(object) },
  };
  if (options.account) event.account = options.account;
  return event as unknown as Stripe.Event;
}

/** The Stripe-Signature header Stripe would send for `payload`, signed with `secret`. */
export function signStripePayload(payload: string, secret: string, timestamp?: number): string {
  return Stripe.webhooks.generateTestHeaderString({ payload, secret, ...(timestamp !== undefined ? { timestamp } : {}) });
}
