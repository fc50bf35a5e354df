import { Router, type RequestHandler } from 'express';
import { AppError } from '../errors';
import type { Logger } from '../logger';
import { stripeAppCaller, verifyStripeAppCaller } from '../stripe/verify-stripe-app-caller';

/** One indexed Stripe event about a payment, as the Stripe App's payment page shows it. */
export interface PaymentEventView {
  id: string;
  type: string;
  status: string;
  attempts: number;
  lastError: string | null;
  created: number | string;
  receivedAt: number | string;
}

/** Reads the event index: the events about `objectId` that belong to `accountId`, newest first. */
export type PaymentEventsLookup = (query: { objectId: string; accountId: string }) => Promise<PaymentEventView[]>;

const PAYMENT_INTENT_ID = /^pi_[A-Za-z0-9]{1,255}$/;

/** GET /app/payments/:paymentIntentId/status (signed): how hooklane processed a payment's events. */
export function paymentStatusRoutes(
  appSecret: string,
  lookup: PaymentEventsLookup | undefined,
  logger: Logger,
  limits: RequestHandler[] = [],
): Router {
  const router = Router();
  // The rate limits count for the caller Stripe signed for, so they run after the signature check.
  router.get('/app/payments/:paymentIntentId/status', verifyStripeAppCaller(appSecret, logger), ...limits, paymentStatus(lookup));
  return router;
}

function paymentStatus(lookup: PaymentEventsLookup | undefined): RequestHandler {
  return async (req, res) => {
    if (!lookup) throw new AppError('STRIPE_APP_NOT_CONFIGURED', 'The event index is not available in this process.');
    const paymentIntentId = String(req.params.paymentIntentId);
    if (!PAYMENT_INTENT_ID.test(paymentIntentId)) {
      throw new AppError('VALIDATION_FAILED', 'paymentIntentId must be a PaymentIntent id (pi_...).');
    }
    // Only the caller's own account: a Dashboard user never sees another account's events.
    const events = await lookup({ objectId: paymentIntentId, accountId: stripeAppCaller(res).accountId });
    if (events.length === 0) throw new AppError('PAYMENT_NOT_FOUND', `No events are recorded for ${paymentIntentId}.`);
    res.setHeader('Cache-Control', 'no-store');
    res.json({ paymentIntentId, events });
  };
}
