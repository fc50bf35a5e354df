import Stripe from 'stripe';
import { startStripeEmulator, type StripeEmulator } from '../../src/dev/stripe-emulator';
import { buildStripeEvent } from '../../src/dev/stripe-event-builder';
import { createStripeClient } from '../../src/stripe/stripe-client';

const KEY = 'sk_test_emulatorevents0001';
let emulator: StripeEmulator;
let stripe: Stripe;

beforeEach(async () => {
  emulator = await startStripeEmulator({ secretKey: KEY });
  stripe = createStripeClient({ STRIPE_SECRET_KEY: KEY, STRIPE_API_BASE: emulator.url, STRIPE_API_TIMEOUT_MS: 5000 });
});
afterEach(async () => {
  await emulator.stop();
});

describe('the emulator\'s events, through stripe-node', () => {
  test('GET /v1/events lists newest first, pages with starting_after/ending_before, filters created and delivery_success', async () => {
    const ids = [100, 200, 300, 400, 500].map((created, i) =>
      emulator.events.add(buildStripeEvent('customer.created', { created }), { delivered: i % 2 === 0 }).id,
    );

    const first = await stripe.events.list({ limit: 2 });
    const second = await stripe.events.list({ limit: 2, starting_after: first.data[1]!.id });
    const back = await stripe.events.list({ limit: 2, ending_before: second.data[0]!.id });
    const ranged = await stripe.events.list({ created: { gte: 200, lt: 500 } });
    const undelivered = await stripe.events.list({ delivery_success: false });
    const all: string[] = [];
    for await (const event of stripe.events.list({ limit: 2 })) all.push(event.id);

    expect(first.data.map((e) => e.id)).toEqual([ids[4], ids[3]]);
    expect(first.has_more).toBe(true);
    expect(second.data.map((e) => e.id)).toEqual([ids[2], ids[1]]);
    expect(back.data.map((e) => e.id)).toEqual([ids[4], ids[3]]);
    expect(ranged.data.map((e) => e.created)).toEqual([400, 300, 200]);
    expect(undelivered.data.map((e) => e.id)).toEqual([ids[3], ids[1]]);
    expect(all).toEqual([...ids].reverse());
  });

  test('GET /v1/events/:id returns the event; an unknown id is 404 resource_missing', async () => {
    const event = emulator.events.add(buildStripeEvent('payment_intent.succeeded'));

    const fetched = await stripe.events.retrieve(event.id);
    const missing = await stripe.events.retrieve('evt_nope').catch((err: unknown) => err);

    expect(fetched).toMatchObject({ id: event.id, type: 'payment_intent.succeeded', data: event.data });
    expect(missing).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(missing).toMatchObject({ statusCode: 404, code: 'resource_missing', param: 'id' });
  });

  test('a thin notification\'s fetchEvent() and fetchRelatedObject() reach GET /v2/core/events/:id and the object', async () => {
    const snapshot = buildStripeEvent('customer.created');
    const notification = emulator.events.addThinFor(snapshot);

    const parsed = stripe.parseEventNotificationWithoutVerification(JSON.stringify(notification)) as Stripe.Events.V1CustomerCreatedEventNotification;
    const event = await parsed.fetchEvent();
    const object = (await parsed.fetchRelatedObject()) as { id: string; object: string };

    expect(notification).toMatchObject({ object: 'v2.core.event', type: 'v1.customer.created', snapshot_event: snapshot.id });
    expect(event).toMatchObject({ id: notification.id, type: 'v1.customer.created', snapshot_event: snapshot.id });
    expect(object).toMatchObject({ id: (snapshot.data.object as { id: string }).id, object: 'customer' });
  });

  test('above its rate limit it answers 429 rate_limit, which stripe-node raises as StripeRateLimitError', async () => {
    emulator.rateLimit.perSecond = 2;
    const noRetries = createStripeClient({ STRIPE_SECRET_KEY: KEY, STRIPE_API_BASE: emulator.url, STRIPE_API_TIMEOUT_MS: 5000 }, { maxNetworkRetries: 0 });

    const outcomes = await Promise.all([1, 2, 3].map(() => noRetries.events.list().then(() => 'ok', (err: unknown) => err)));
    const raw = await fetch(`${emulator.url}/v1/events`, { headers: { authorization: `Bearer ${KEY}` } });

    expect(outcomes.filter((o) => o === 'ok')).toHaveLength(2);
    const refused = outcomes.find((o) => o !== 'ok');
    expect(refused).toBeInstanceOf(Stripe.errors.StripeRateLimitError);
    expect(refused).toMatchObject({ statusCode: 429, code: 'rate_limit', type: 'StripeRateLimitError' });
    expect(raw.status).toBe(429);
    expect(raw.headers.get('content-type')).toBe('application/json');
    expect(raw.headers.get('stripe-rate-limited-reason')).toBe('global-rate');
    // Stripe documents no Retry-After (stripe-node does not read one either).
    expect(raw.headers.get('retry-after')).toBeNull();
    expect(await raw.json()).toEqual({
      error: {
        code: 'rate_limit',
        doc_url: 'https://stripe.com/docs/error-codes/rate-limit',
        message: 'Request rate limit exceeded. You can learn more about rate limits here https://stripe.com/docs/rate-limits.',
        type: 'invalid_request_error',
      },
    });
    expect(emulator.rateLimit).toMatchObject({ admitted: 2, refused: 2, peakPerSecond: 2 });
  });

  test('a v2 endpoint answers errors in v2\'s shape: 429 type rate_limit (stripe-node\'s RateLimitError), 404 without v1\'s doc_url and param', async () => {
    const notification = emulator.events.addThinFor(buildStripeEvent('customer.created'));
    const noRetries = createStripeClient({ STRIPE_SECRET_KEY: KEY, STRIPE_API_BASE: emulator.url, STRIPE_API_TIMEOUT_MS: 5000 }, { maxNetworkRetries: 0 });
    const fetchEvent = () => noRetries.parseEventNotificationWithoutVerification(JSON.stringify(notification)).fetchEvent().then(() => 'ok', (err: unknown) => err);
    const headers = { authorization: `Bearer ${KEY}` };

    const missing = await fetch(`${emulator.url}/v2/core/events/evt_test_nope`, { headers });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: { type: 'invalid_request_error', code: 'resource_missing', message: "No such event: 'evt_test_nope'" } });

    emulator.rateLimit.perSecond = 1;
    emulator.rateLimit.reset();
    const outcomes = await Promise.all([1, 2].map(fetchEvent));
    const raw = await fetch(`${emulator.url}/v2/core/events/${notification.id}`, { headers });

    expect(outcomes.filter((o) => o === 'ok')).toHaveLength(1);
    const refused = outcomes.find((o) => o !== 'ok');
    expect(refused).toBeInstanceOf(Stripe.errors.RateLimitError);
    expect(refused).toMatchObject({ statusCode: 429, code: 'rate_limit' });
    expect(raw.status).toBe(429);
    expect(raw.headers.get('stripe-rate-limited-reason')).toBe('global-rate');
    expect(await raw.json()).toEqual({ error: { type: 'rate_limit', code: 'rate_limit', message: expect.stringContaining('Request rate limit exceeded') } });
  });
});
