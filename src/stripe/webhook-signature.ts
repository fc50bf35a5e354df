import Stripe from 'stripe';
import { AppError } from '../errors';
import './webhook-errors';

export interface WebhookVerification {
  /** Every accepted `whsec_` secret: more than one while a secret is being rotated. */
  secrets: readonly string[];
  toleranceSeconds: number;
}

type SignatureFailure = 'SIGNATURE_MALFORMED' | 'SIGNATURE_INVALID' | 'SIGNATURE_EXPIRED' | 'WEBHOOK_EVENT_INVALID';

/**
 * stripe-node's SignatureVerificationError carries no code, only a message; these are the messages of
 * stripe-node 23 (a unit test pins them, so an upgrade that changes one fails loudly).
 */
function classify(err: unknown): SignatureFailure {
  if (!(err instanceof Stripe.errors.StripeSignatureVerificationError)) return 'WEBHOOK_EVENT_INVALID';
  const message = err.message;
  if (message.startsWith('Timestamp outside the tolerance zone')) return 'SIGNATURE_EXPIRED';
  if (message.startsWith('Unable to extract timestamp') || message.startsWith('No signatures found with expected scheme')) {
    return 'SIGNATURE_MALFORMED';
  }
  if (message.startsWith('No webhook payload')) return 'WEBHOOK_EVENT_INVALID';
  return 'SIGNATURE_INVALID';
}

const DETAILS: Record<SignatureFailure, string> = {
  SIGNATURE_MALFORMED: 'Stripe-Signature must look like t=<unix time>,v1=<hex signature>.',
  SIGNATURE_INVALID: 'No v1 signature matches the raw body under any configured webhook secret.',
  SIGNATURE_EXPIRED: 'The signature is valid but its timestamp is older than the tolerance; nothing was stored.',
  WEBHOOK_EVENT_INVALID: 'The body is empty or not JSON.',
};

/**
 * Verifies `Stripe-Signature` over the raw body with stripe-node against each configured secret in turn
 * and returns the parsed event. A valid signature under any secret wins; otherwise the most telling
 * failure is reported (expired beats invalid: it means a secret matched but the delivery is too old).
 */
export function verifyStripeSignature(
  rawBody: Buffer,
  signatureHeader: string | undefined,
  { secrets, toleranceSeconds }: WebhookVerification,
): Stripe.Event {
  if (!signatureHeader) throw new AppError('SIGNATURE_MISSING', 'Send the Stripe-Signature header Stripe computed for this body.');
  let failure: SignatureFailure = 'SIGNATURE_INVALID';
  let firstCause: unknown;
  // Decoded once here: given bytes, stripe-node decodes them twice per secret (for the HMAC and for the
  // parse), with a new TextDecoder each time. The signed content is the same UTF-8 either way.
  const payload = rawBody.toString('utf8');
  for (const secret of secrets) {
    try {
      return Stripe.webhooks.constructEvent(payload, signatureHeader, secret, toleranceSeconds);
    } catch (err) {
      const kind = classify(err);
      firstCause ??= err;
      if (kind !== 'SIGNATURE_INVALID') failure = kind;
      if (kind === 'SIGNATURE_MALFORMED' || kind === 'WEBHOOK_EVENT_INVALID') break;
    }
  }
  throw new AppError(failure, DETAILS[failure], { cause: firstCause });
}
