/** Stripe's error envelope: `{"error": {code, doc_url, message, param, type}}`. */
export class StripeApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: { code?: string; doc_url?: string; message: string; param?: string; type: string },
    readonly headers: Record<string, string> = {},
  ) {
    super(body.message);
  }
}

export function resourceMissing(message: string, param?: string): StripeApiError {
  return new StripeApiError(404, {
    code: 'resource_missing',
    doc_url: 'https://stripe.com/docs/error-codes/resource-missing',
    message,
    param,
    type: 'invalid_request_error',
  });
}

export function parameterMissing(param: string): StripeApiError {
  return new StripeApiError(400, {
    code: 'parameter_missing',
    doc_url: 'https://stripe.com/docs/error-codes/parameter-missing',
    message: `Missing required param: ${param}.`,
    param,
    type: 'invalid_request_error',
  });
}

export function parameterInvalid(param: string, message: string): StripeApiError {
  return new StripeApiError(400, {
    code: 'parameter_invalid_empty',
    doc_url: 'https://stripe.com/docs/error-codes/parameter-invalid-empty',
    message,
    param,
    type: 'invalid_request_error',
  });
}

/**
 * What Stripe answers a platform key acting for an account (`Stripe-Account`) it no longer has access
 * to, e.g. after the account uninstalled the app: 403 (stripe-node's StripePermissionError) with
 * `account_invalid` and the key shown redacted.
 */
export function accountInaccessible(key: string, account: string): StripeApiError {
  return new StripeApiError(403, {
    code: 'account_invalid',
    doc_url: 'https://stripe.com/docs/error-codes/account-invalid',
    message: `The provided key '${redactKey(key)}' does not have access to account '${account}' (or that account does not exist). Application access may have been revoked.`,
    type: 'invalid_request_error',
  });
}

/** How Stripe shows a key in an error: its prefix and last four characters. */
export function redactKey(key: string): string {
  return `${key.slice(0, 8)}${'*'.repeat(Math.max(0, key.length - 12))}${key.slice(-4)}`;
}

/**
 * What Stripe's rate limiter answers: 429 with code `rate_limit` and the `Stripe-Rate-Limited-Reason`
 * header naming the limiter (`global-rate` here: one limit over every request, like Stripe's global
 * per-second limit); no Retry-After. Sources: https://docs.stripe.com/rate-limits (429 Too Many Requests,
 * the Stripe-Rate-Limited-Reason values global-rate / endpoint-rate / global-concurrency /
 * endpoint-concurrency / resource-specific, exponential backoff and no Retry-After documented);
 * https://stripe.com/docs/error-codes/rate-limit (code, doc_url). stripe-node (stripe/stripe-node
 * src/Error.ts generateV1Error) raises StripeRateLimitError for any 429, and its RequestSender._shouldRetry
 * reads only `Stripe-Should-Retry` (never Retry-After) and does not retry a 429 without it, so no
 * Stripe-Should-Retry is sent: hooklane's budget backs off on its own. A v2 path gets v2's envelope
 * (see v2ErrorBody).
 */
export function rateLimited(): StripeApiError {
  return new StripeApiError(
    429,
    {
      code: 'rate_limit',
      doc_url: 'https://stripe.com/docs/error-codes/rate-limit',
      message: 'Request rate limit exceeded. You can learn more about rate limits here https://stripe.com/docs/rate-limits.',
      type: 'invalid_request_error',
    },
    { 'Stripe-Rate-Limited-Reason': 'global-rate' },
  );
}

/** v2 error types for a status where v1 has only its generic type (stripe-node maps `rate_limit` to RateLimitError). */
const V2_TYPE_BY_STATUS: Record<number, string> = { 429: 'rate_limit' };

/**
 * The same error on a `/v2/...` path, in API v2's envelope: `{"error": {type, code, message}}`, where
 * `type` names the error itself (e.g. `rate_limit`) and there is no `doc_url` or `param`. Sources:
 * stripe-node src/Error.ts generateV2Error (dispatches on `type`, falls back to the v1 classes by status)
 * and stripe-python tests/test_v2_error.py (a GET /v2/core/events/:id error body `{type, code, message}`).
 */
export function v2ErrorBody(err: StripeApiError): { type: string; code?: string; message: string } {
  const { code, message, type } = err.body;
  return { type: V2_TYPE_BY_STATUS[err.status] ?? type, ...(code ? { code } : {}), message };
}
