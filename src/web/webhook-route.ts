import express, { Router, type ErrorRequestHandler, type RequestHandler } from 'express';
import { AppError } from '../errors';
import { recordIntake } from '../metrics/prometheus';
import { acceptStripeWebhook, type WebhookIntakeDeps } from '../stripe/webhook-intake';
import { toAppError } from './problem';
import { bindRequestLog, describeRequestLine } from './request-context';

export const STRIPE_WEBHOOK_PATH = '/webhooks/stripe';

/**
 * `POST /webhooks/stripe`: the raw body (whatever its content type, up to BODY_LIMIT) goes to the
 * framework-free intake untouched, because the signature is over the exact bytes Stripe sent.
 */
export function webhookRoute(deps: WebhookIntakeDeps & { config: { BODY_LIMIT: string } }): Router {
  const router = Router();
  const rawBody = express.raw({ type: () => true, limit: deps.config.BODY_LIMIT });
  // Started before the body is read, as on the fast path, so both report the same latency.
  const start: RequestHandler = (_req, res, next) => {
    res.locals.intakeStarted = performance.now();
    next();
  };
  const secondsSince = (res: express.Response) => (performance.now() - (res.locals.intakeStarted as number)) / 1000;
  const accept: RequestHandler = async (req, res) => {
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    try {
      const answer = await acceptStripeWebhook(deps, body, req.get('stripe-signature'));
      for (const [name, value] of Object.entries(answer.headers ?? {})) res.setHeader(name, value);
      bindRequestLog(req, res, { eventId: answer.eventId, ...(answer.accountId ? { accountId: answer.accountId } : {}), ...answer.trace });
      describeRequestLine(res, 'stripe event accepted', { duplicate: answer.body.duplicate });
      res.status(answer.status).json(answer.body);
      recordIntake(answer.body.duplicate ? 'duplicate' : 'accepted', secondsSince(res));
    } catch (err) {
      // Why a delivery was refused goes on the request's line (the problem handler adds the code).
      if (err instanceof AppError && err.status === 400) describeRequestLine(res, 'stripe webhook refused', { reason: (err.cause as Error)?.message?.split('\n')[0] });
      throw err;
    }
  };
  // Every refusal, the body reader's (413, 415) included, is counted here, then answered by the problem handler.
  const countRefusal: ErrorRequestHandler = (err, _req, res, next) => {
    recordIntake('rejected', secondsSince(res), toAppError(err).code);
    next(err);
  };
  router.post(STRIPE_WEBHOOK_PATH, start, rawBody, accept, countRefusal);
  return router;
}
