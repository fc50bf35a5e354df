import Stripe from 'stripe';
import { isAccountGone } from '../../../src/stripe/secret-store';

// Raw error bodies as Stripe sends them; stripe-node picks the error class from the HTTP status.
const fromStripe = (statusCode: number, body: { type: string; message: string; code?: string }) =>
  Stripe.errors.StripeError.generate({ ...body, statusCode } as Parameters<typeof Stripe.errors.StripeError.generate>[0]);

describe('isAccountGone: is this Stripe answer "the platform no longer has access to that account"?', () => {
  test('403 account_invalid after the account uninstalled the app: yes', () => {
    const err = fromStripe(403, {
      type: 'invalid_request_error',
      code: 'account_invalid',
      message: "The provided key 'sk_test_****abcd' does not have access to account 'acct_1Gone' (or that account does not exist). Application access may have been revoked.",
    });
    expect(err).toBeInstanceOf(Stripe.errors.StripePermissionError);
    expect(isAccountGone(err)).toBe(true);
  });

  test('the same 403 without a code (older API versions): yes, by its message', () => {
    const err = fromStripe(403, {
      type: 'invalid_request_error',
      message: "The provided key 'sk_test_****abcd' does not have access to account 'acct_1Gone' (or that account does not exist). Application access may have been revoked.",
    });
    expect(isAccountGone(err)).toBe(true);
  });

  test('a restricted key without the permission (403 about the key, not the account): no, that must keep failing', () => {
    const err = fromStripe(403, {
      type: 'invalid_request_error',
      message: "The provided key 'rk_test_****abcd' does not have the required permissions for this endpoint on account 'acct_1Here'.",
    });
    expect(isAccountGone(err)).toBe(false);
  });

  test('a refused key (401), a missing secret (404), a server error (500), a network error: no', () => {
    expect(isAccountGone(fromStripe(401, { type: 'invalid_request_error', message: 'Invalid API Key provided: sk_test_****' }))).toBe(false);
    expect(isAccountGone(fromStripe(404, { type: 'invalid_request_error', code: 'resource_missing', message: "No such secret: 'x'" }))).toBe(false);
    expect(isAccountGone(fromStripe(500, { type: 'api_error', message: 'An unknown error occurred' }))).toBe(false);
    expect(isAccountGone(new Error('ECONNRESET'))).toBe(false);
  });
});
