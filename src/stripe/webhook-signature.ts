import Stripe from 'stripe';
import { AppError } from '../errors';
import type { ThinNotification } from './stripe-fetcher';
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

/** A verified delivery: a snapshot event, or a thin event notification (an event destination's thin payload). */
export type VerifiedDelivery = { kind: 'snapshot'; event: Stripe.Event } | { kind: 'thin'; notification: ThinNotification };

// stripe-node's constructEvent verifies the signature, then refuses a thin payload with this plain Error;
// parseEventNotification does the opposite. Only a verified body can raise it (a unit test pins the text).
const THIN_PAYLOAD_REFUSED = 'You passed a thin event notification';

// parseEventNotification is an instance method, and an instance wants a key; this one never sends a
// request (the web only verifies and parses; the workers fetch, with their own client).
let thinParser: Stripe | undefined;
const PARSE_ONLY_KEY = 'sk_test_hooklane_parse_only_never_sent';

/**
 * Verifies `Stripe-Signature` over the raw body with stripe-node against each configured secret in turn
 * and returns the parsed event. The snapshot path runs first and costs what it always did; only a body
 * stripe-node verified and then refused as a thin payload is parsed again, with parseEventNotification
 * under the secret that matched (each event destination has its own). A valid signature under any secret wins; otherwise the most telling
 * failure is reported (expired beats invalid: it means a secret matched but the delivery is too old).
 */
export function verifyStripeSignature(
  rawBody: Buffer,
  signatureHeader: string | undefined,
  { secrets, toleranceSeconds }: WebhookVerification,
): VerifiedDelivery {
  if (!signatureHeader) throw new AppError('SIGNATURE_MISSING', 'Send the Stripe-Signature header Stripe computed for this body.');
  let failure: SignatureFailure = 'SIGNATURE_INVALID';
  let firstCause: unknown;
  // Decoded once here: given bytes, stripe-node decodes them twice per secret (for the HMAC and for the
  // parse), with a new TextDecoder each time. The signed content is the same UTF-8 either way.
  const payload = rawBody.toString('utf8');
  for (const secret of secrets) {
    try {
      return { kind: 'snapshot', event: Stripe.webhooks.constructEvent(payload, signatureHeader, secret, toleranceSeconds) };
    } catch (err) {
      if (err instanceof Error && err.message.startsWith(THIN_PAYLOAD_REFUSED)) {
        return { kind: 'thin', notification: parseThin(payload, signatureHeader, secret, toleranceSeconds) };
      }
      const kind = classify(err);
      firstCause ??= err;
      if (kind !== 'SIGNATURE_INVALID') failure = kind;
      if (kind === 'SIGNATURE_MALFORMED' || kind === 'WEBHOOK_EVENT_INVALID') break;
    }
  }
  throw new AppError(failure, DETAILS[failure], { cause: firstCause });
}

function parseThin(payload: string, header: string, secret: string, toleranceSeconds: number): ThinNotification {
  thinParser ??= new Stripe(PARSE_ONLY_KEY);
  try {
    const notification = thinParser.parseEventNotification(payload, header, secret, toleranceSeconds);
    // The stored form is the JSON Stripe sent, without stripe-node's fetch functions or parsed context.
    return JSON.parse(payload) as ThinNotification & typeof notification;
  } catch (err) {
    throw new AppError('WEBHOOK_EVENT_INVALID', 'The signed body is not a thin event notification stripe-node accepts.', { cause: err });
  }
}
