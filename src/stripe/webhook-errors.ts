import { registerErrorCodes } from '../errors';

/** Error codes of the webhook intake and the event index. */
export const WEBHOOK_ERROR_CODES = {
  SIGNATURE_MISSING: { status: 400, title: 'Stripe-Signature header is missing' },
  SIGNATURE_MALFORMED: { status: 400, title: 'Stripe-Signature header is malformed' },
  SIGNATURE_INVALID: { status: 400, title: 'No signature matches a configured webhook secret' },
  SIGNATURE_EXPIRED: { status: 400, title: 'Signature timestamp is outside the tolerance' },
  WEBHOOK_EVENT_INVALID: { status: 400, title: 'The signed body is not a Stripe event' },
  WEBHOOK_NOT_CONFIGURED: { status: 503, title: 'Stripe webhooks are not configured' },
  INTAKE_NOT_REPLICATED: { status: 503, title: 'The event is not yet on enough Redis replicas' },
  EVENT_NOT_FOUND: { status: 404, title: 'Event not found' },
  PAYLOAD_EXPIRED: { status: 409, title: 'The event\'s payload is no longer stored' },
  RECONCILE_NOT_CONFIGURED: { status: 503, title: 'Reconciliation needs STRIPE_SECRET_KEY' },
} as const;

registerErrorCodes(WEBHOOK_ERROR_CODES);
