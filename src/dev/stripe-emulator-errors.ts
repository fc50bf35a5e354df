/** Stripe's error envelope: `{"error": {code, doc_url, message, param, type}}`. */
export class StripeApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: { code?: string; doc_url?: string; message: string; param?: string; type: string },
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
