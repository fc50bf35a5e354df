import express, { Router, type RequestHandler } from 'express';
import { AppError } from '../errors';
import { acceptStripeWebhook, type WebhookIntakeDeps } from '../stripe/webhook-intake';
import { bindRequestLog, describeRequestLine } from './request-context';

export const STRIPE_WEBHOOK_PATH = '/webhooks/stripe';

/**
 * `POST /webhooks/stripe`: the raw body (whatever its content type, up to BODY_LIMIT) goes to the
 * framework-free intake untouched, because the signature is over the exact bytes Stripe sent.
 */
export function webhookRoute(deps: WebhookIntakeDeps & { config: { BODY_LIMIT: string } }): Router {
  const router = Router();
  const rawBody = express.raw({ type: () => true, limit: deps.config.BODY_LIMIT });
  const accept: RequestHandler = async (req, res) => {
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    try {
      const answer = await acceptStripeWebhook(deps, body, req.get('stripe-signature'));
      for (const [name, value] of Object.entries(answer.headers ?? {})) res.setHeader(name, value);
      bindRequestLog(req, res, { eventId: answer.eventId, ...(answer.accountId ? { accountId: answer.accountId } : {}), ...answer.trace });
      describeRequestLine(res, 'stripe event accepted', { duplicate: answer.body.duplicate });
      res.status(answer.status).json(answer.body);
    } catch (err) {
      // Why a delivery was refused goes on the request's line (the problem handler adds the code).
      if (err instanceof AppError && err.status === 400) describeRequestLine(res, 'stripe webhook refused', { reason: (err.cause as Error)?.message?.split('\n')[0] });
      throw err;
    }
  };
  router.post(STRIPE_WEBHOOK_PATH, rawBody, accept);
  return router;
}
