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
