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
 * fixture as `data.object`, a fresh id and timestamp, and the account when given (account.* types always get one).
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
  const account = options.account ?? accountFor(type, event.data as { object: { id?: unknown } });
  if (account) event.account = account;
  return event as unknown as Stripe.Event;
}

/**
 * Stripe sends account.* events (an app authorized or deauthorized, an account or its external accounts
 * changed) only for a connected account, so they always carry `event.account`; handlers rely on it
 * (account.application.deauthorized deletes that account's tokens). Without one asked for, a plausible one:
 * the account the event is about, else a fresh acct_ id.
 */
function accountFor(type: string, data: { object: { id?: unknown } }): string | undefined {
  if (!type.startsWith('account.')) return undefined;
  const id = data.object.id;
  if (typeof id === 'string' && id.startsWith('acct_')) return id;
  return `acct_1${randomBytes(12).toString('base64url').replace(/[-_]/g, 'x')}`;
}

/** The Stripe-Signature header Stripe would send for `payload`, signed with `secret`. */
export function signStripePayload(payload: string, secret: string, timestamp?: number): string {
  return Stripe.webhooks.generateTestHeaderString({ payload, secret, ...(timestamp !== undefined ? { timestamp } : {}) });
}
