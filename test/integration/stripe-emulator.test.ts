import { readFileSync } from 'node:fs';
import Stripe from 'stripe';
import { startStripeEmulator, type StripeEmulator } from '../../src/dev/stripe-emulator';
import { fixturesPath } from '../../src/dev/stripe-event-builder';
import { createStripeClient } from '../../src/stripe/stripe-client';

const KEY = 'sk_test_emulatorcontract0001';
const FIXTURE = (
  JSON.parse(readFileSync(fixturesPath(), 'utf8')) as {
    resources: Record<string, Record<string, unknown>>;
  }
).resources['apps.secret']!;

let emulator: StripeEmulator;
let stripe: Stripe;

beforeEach(async () => {
  emulator = await startStripeEmulator({ secretKey: KEY });
  stripe = createStripeClient({ STRIPE_SECRET_KEY: KEY, STRIPE_API_BASE: emulator.url, STRIPE_API_TIMEOUT_MS: 5000 });
});
afterEach(async () => {
  await emulator.stop();
});

const userScope = (user: string) => ({ type: 'user' as const, user });

function form(body: Record<string, string>): RequestInit {
  return {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(body).toString(),
  };
}

describe('the Stripe API emulator, through stripe-node', () => {
  test('create, find with the payload expanded, deleteWhere, then find is resource_missing', async () => {
    const options = { stripeAccount: 'acct_contract' };
    const created = await stripe.apps.secrets.create({ name: 'access_token', payload: 'tok', scope: userScope('usr_a') }, options);
    const found = await stripe.apps.secrets.find({ name: 'access_token', scope: userScope('usr_a'), expand: ['payload'] }, options);
    const deleted = await stripe.apps.secrets.deleteWhere({ name: 'access_token', scope: userScope('usr_a') }, options);
    const missing = await stripe.apps.secrets
      .find({ name: 'access_token', scope: userScope('usr_a') }, options)
      .catch((err: unknown) => err);

    expect(created.id).toMatch(/^appsecret_/);
    expect(created.payload).toBeUndefined();
    expect(found).toMatchObject({ id: created.id, payload: 'tok', scope: { type: 'user', user: 'usr_a' } });
    expect(deleted).toMatchObject({ id: created.id, deleted: true });
    expect(missing).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(missing).toMatchObject({ statusCode: 404, code: 'resource_missing' });
  });

  test('the object has the shape of apps.secret in Stripe\'s fixtures', async () => {
    const created = await stripe.apps.secrets.create({ name: 'n', payload: 'p', scope: { type: 'account' } });

    const { lastResponse: _ignored, ...fields } = created as Stripe.Apps.Secret & { lastResponse?: unknown };
    expect(Object.keys(fields).sort()).toEqual(Object.keys(FIXTURE).sort());
    expect(fields.object).toBe(FIXTURE.object);
    expect(fields.scope).toEqual({ type: 'account' });
  });

  test('creating again under the same name and scope replaces the secret', async () => {
    await stripe.apps.secrets.create({ name: 'n', payload: 'first', scope: userScope('usr_a') });
    await stripe.apps.secrets.create({ name: 'n', payload: 'second', scope: userScope('usr_a') });

    const found = await stripe.apps.secrets.find({ name: 'n', scope: userScope('usr_a'), expand: ['payload'] });
    expect(found.payload).toBe('second');
  });

  test('secrets are kept apart by account and by user', async () => {
    await stripe.apps.secrets.create({ name: 'n', payload: 'a', scope: userScope('usr_a') }, { stripeAccount: 'acct_1' });

    const otherUser = stripe.apps.secrets.find({ name: 'n', scope: userScope('usr_b') }, { stripeAccount: 'acct_1' });
    const otherAccount = stripe.apps.secrets.find({ name: 'n', scope: userScope('usr_a') }, { stripeAccount: 'acct_2' });

    await expect(otherUser).rejects.toMatchObject({ code: 'resource_missing' });
    await expect(otherAccount).rejects.toMatchObject({ code: 'resource_missing' });
  });

  test('a wrong secret key is a StripeAuthenticationError', async () => {
    const wrong = createStripeClient({ STRIPE_SECRET_KEY: 'sk_test_wrong', STRIPE_API_BASE: emulator.url, STRIPE_API_TIMEOUT_MS: 5000 });

    await expect(wrong.apps.secrets.find({ name: 'n', scope: { type: 'account' } })).rejects.toBeInstanceOf(
      Stripe.errors.StripeAuthenticationError,
    );
  });
});

describe('the Stripe API emulator on the wire', () => {
  test('an account whose access was revoked (the app uninstalled) answers 403 account_invalid: a StripePermissionError', async () => {
    await stripe.apps.secrets.create({ name: 'access_token', payload: 'tok', scope: userScope('usr_a') }, { stripeAccount: 'acct_left' });
    emulator.revokeAccess('acct_left');

    const err = await stripe.apps.secrets
      .find({ name: 'access_token', scope: userScope('usr_a') }, { stripeAccount: 'acct_left' })
      .catch((e: unknown) => e);
    const raw = await fetch(`${emulator.url}/v1/apps/secrets/find?name=access_token&scope[type]=user&scope[user]=usr_a`, {
      headers: { authorization: `Bearer ${KEY}`, 'stripe-account': 'acct_left' },
    });
    const other = await stripe.apps.secrets.list({ scope: userScope('usr_a') }, { stripeAccount: 'acct_stays' });

    expect(err).toBeInstanceOf(Stripe.errors.StripePermissionError);
    expect(err).toMatchObject({ statusCode: 403, code: 'account_invalid', type: 'StripePermissionError' });
    expect(raw.status).toBe(403);
    const body = (await raw.json()) as { error: { type: string; code: string; message: string } };
    expect(body.error).toMatchObject({ type: 'invalid_request_error', code: 'account_invalid' });
    expect(body.error.message).toMatch(/^The provided key 'sk_test_\*+0001' does not have access to account 'acct_left' \(or that account does not exist\)\. Application access may have been revoked\.$/);
    expect(other.data).toEqual([]);
  });

  test('takes form-encoded scope[type]/scope[user] and returns the payload only for expand[]=payload', async () => {
    const created = await fetch(`${emulator.url}/v1/apps/secrets`, form({ name: 'n', payload: 'p', 'scope[type]': 'user', 'scope[user]': 'usr_w' }));
    const query = 'name=n&scope[type]=user&scope[user]=usr_w';
    const plain = await fetch(`${emulator.url}/v1/apps/secrets/find?${query}`, { headers: { authorization: `Bearer ${KEY}` } });
    const expanded = await fetch(`${emulator.url}/v1/apps/secrets/find?${query}&expand[]=payload`, {
      headers: { authorization: `Bearer ${KEY}` },
    });

    expect(created.status).toBe(200);
    expect(await plain.json()).not.toHaveProperty('payload');
    expect(await expanded.json()).toMatchObject({ payload: 'p', scope: { type: 'user', user: 'usr_w' } });
  });

  test('a missing secret is 404 with Stripe\'s resource_missing error body', async () => {
    const res = await fetch(`${emulator.url}/v1/apps/secrets/delete`, form({ name: 'gone', 'scope[type]': 'account' }));

    expect(res.status).toBe(404);
    expect(res.headers.get('request-id')).toMatch(/^req_/);
    const body = (await res.json()) as { error: Record<string, unknown> };
    expect(Object.keys(body)).toEqual(['error']);
    expect(body.error).toEqual({
      code: 'resource_missing',
      doc_url: 'https://stripe.com/docs/error-codes/resource-missing',
      message: expect.stringContaining('gone'),
      param: 'name',
      type: 'invalid_request_error',
    });
  });

  test('no API key is 401 with Stripe\'s error body', async () => {
    const res = await fetch(`${emulator.url}/v1/apps/secrets/find?name=n&scope[type]=account`);

    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({
      error: { message: expect.stringContaining('You did not provide an API key'), type: 'invalid_request_error' },
    });
  });

  test('a wrong API key is 401 and the key is masked in the message', async () => {
    const res = await fetch(`${emulator.url}/v1/apps/secrets/find?name=n&scope[type]=account`, {
      headers: { authorization: 'Bearer sk_test_thisisthewrongkey1234' },
    });

    expect(res.status).toBe(401);
    const { error } = (await res.json()) as { error: { message: string } };
    expect(error.message).toMatch(/^Invalid API Key provided: sk_test_\*+1234$/);
  });

  test('a missing required param is 400 parameter_missing naming it', async () => {
    const res = await fetch(`${emulator.url}/v1/apps/secrets`, form({ name: 'n', payload: 'p', 'scope[type]': 'user' }));

    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: unknown }).error).toMatchObject({ code: 'parameter_missing', param: 'scope[user]' });
  });

  test('a JSON body is refused: Stripe takes form encoding only', async () => {
    const res = await fetch(`${emulator.url}/v1/apps/secrets`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'n', payload: 'p', scope: { type: 'account' } }),
    });

    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { type: string } }).error.type).toBe('invalid_request_error');
  });

  test('an unknown path is 404 Unrecognized request URL', async () => {
    const res = await fetch(`${emulator.url}/v1/customers`, { headers: { authorization: `Bearer ${KEY}` } });

    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain('Unrecognized request URL (GET: /v1/customers)');
  });
});
