import type { Request, RequestHandler, Response } from 'express';
import { AppError } from '../errors';
import type { Logger } from '../logger';
import { bindRequestLog, refusalReport, type RefusalReport } from '../web/request-context';
import './stripe-app-errors';
import { stripeSignatures } from './stripe-client';

/** Who is calling: the Stripe Dashboard user and account that Stripe signed for. */
export interface StripeAppCaller {
  userId: string;
  accountId: string;
}

/**
 * Checks a Dashboard signature (`fetchStripeSignature` in the UI extension) over
 * `{"user_id":…,"account_id":…}` with the app's signing secret. stripe-node also enforces its
 * default timestamp tolerance (300 s), so a captured signature stops working after five minutes.
 */
export function verifyStripeAppSignature(
  ids: { userId: unknown; accountId: unknown; signature: unknown },
  appSecret: string,
  report: RefusalReport,
): StripeAppCaller {
  const { userId, accountId, signature } = ids;
  if (!isNonEmptyString(userId) || !isNonEmptyString(accountId) || !isNonEmptyString(signature)) {
    report({ reason: 'stripe-signature, stripe-user-id or stripe-account-id missing' }, 'stripe app call rejected');
    throw new AppError('STRIPE_APP_MISSING_IDENTIFIERS');
  }
  try {
    stripeSignatures.verifyHeader(JSON.stringify({ user_id: userId, account_id: accountId }), signature, appSecret);
  } catch (err) {
    report({ reason: (err as Error).message, userId, accountId }, 'stripe app signature rejected');
    throw new AppError('STRIPE_APP_BAD_SIGNATURE', undefined, { cause: err });
  }
  return { userId, accountId };
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

/** Middleware for every signed Stripe App route; puts the caller on `res.locals.stripeApp`. */
export function verifyStripeAppCaller(appSecret: string | undefined, logger: Logger): RequestHandler {
  return (req, res, next) => {
    if (!appSecret) throw new AppError('STRIPE_APP_NOT_CONFIGURED', 'STRIPE_APP_SECRET is not set.');
    const caller = verifyStripeAppSignature(
      {
        userId: req.headers['stripe-user-id'],
        accountId: req.headers['stripe-account-id'],
        signature: req.headers['stripe-signature'],
      },
      appSecret,
      refusalReport(req, res, logger),
    );
    res.locals.stripeApp = caller;
    bindRequestLog(req, res, { accountId: caller.accountId });
    next();
  };
}

export function stripeAppCaller(res: Response): StripeAppCaller {
  const caller = res.locals.stripeApp as StripeAppCaller | undefined;
  if (!caller) throw new Error('verifyStripeAppCaller must run before this handler');
  return caller;
}

const ALLOWED_HEADERS = 'stripe-signature, stripe-user-id, stripe-account-id, content-type';

/**
 * CORS for calls from the UI extension. It runs in a sandboxed iframe without allow-same-origin, so
 * its requests carry `Origin: null` and no cookies: the only origin that can be allowed is `*`, and
 * that is safe because every route behind this checks Stripe's signature instead of ambient credentials.
 */
export function stripeAppCors(): RequestHandler {
  return (req: Request, res: Response, next) => {
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.setHeader('Access-Control-Expose-Headers', 'x-request-id');
    if (req.method !== 'OPTIONS') {
      next();
      return;
    }
    res.setHeader('Access-Control-Allow-Methods', 'GET, POST, DELETE, OPTIONS');
    res.setHeader('Access-Control-Allow-Headers', ALLOWED_HEADERS);
    res.setHeader('Access-Control-Max-Age', '600');
    res.status(204).end();
  };
}
