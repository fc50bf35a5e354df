import { registerErrorCodes } from '../errors';

/** Error codes of the Stripe App back-end (caller verification, OAuth, Secret Store). */
export const STRIPE_APP_ERROR_CODES = {
  STRIPE_APP_MISSING_IDENTIFIERS: { status: 400, title: 'Missing user identifiers' },
  STRIPE_APP_BAD_SIGNATURE: { status: 400, title: 'Could not verify signature' },
  STRIPE_APP_NOT_CONFIGURED: { status: 503, title: 'The Stripe App back-end is not configured' },
  OAUTH_STATE_INVALID: { status: 400, title: 'Unknown or already used sign-in state' },
  OAUTH_BROWSER_MISMATCH: { status: 400, title: 'The sign-in was started in another browser' },
  OAUTH_NOT_CONNECTED: { status: 401, title: 'No account is connected' },
  OAUTH_PROVIDER_REJECTED: { status: 401, title: 'The authentication server refused the request' },
  OAUTH_EMAIL_NOT_VERIFIED: { status: 401, title: 'The email address is not verified' },
  OAUTH_PROVIDER_UNREACHABLE: { status: 502, title: 'Cannot contact authentication server' },
  SECRET_STORE_UNAVAILABLE: { status: 502, title: "Cannot reach Stripe's Secret Store" },
  PAYMENT_NOT_FOUND: { status: 404, title: 'No events recorded for this payment' },
} as const;

registerErrorCodes(STRIPE_APP_ERROR_CODES);
