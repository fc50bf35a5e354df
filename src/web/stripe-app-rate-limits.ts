import type { RequestHandler, Response } from 'express';
import type { Config } from '../config';
import type { StripeAppCaller } from '../stripe/verify-stripe-app-caller';
import { clientAddressKey, redisRateLimit, type RateLimitDeps } from './rate-limit';

export interface StripeAppRateLimitDeps extends RateLimitDeps {
  config: RateLimitDeps['config'] &
    Pick<Config, 'STRIPE_APP_RATE_LIMIT_PER_MINUTE' | 'STRIPE_APP_USER_RATE_LIMIT_PER_MINUTE' | 'STRIPE_APP_SIGN_IN_RATE_LIMIT_PER_MINUTE'>;
}

export interface StripeAppRateLimits {
  /** After the Dashboard signature check: per Stripe account, then per Dashboard user. */
  signed: RequestHandler[];
  /** On /oauth/login and /oauth/authorize, which are browser navigations: per client IP. */
  signIn: RequestHandler;
}

const MINUTE = 60_000;
const callerOf = (res: Response) => res.locals.stripeApp as StripeAppCaller | undefined;

/**
 * Anyone who installs the app can call its routes, and some spend the platform's Stripe API rate limit
 * (Secret Store reads) or the OAuth provider's: the limits hold across instances (Redis). Signed calls are
 * counted for the account and user Stripe signed for, never for ids a caller merely claims, so nobody can
 * use up another account's allowance.
 */
export function stripeAppRateLimits(deps: StripeAppRateLimitDeps): StripeAppRateLimits {
  const { config } = deps;
  return {
    signed: [
      redisRateLimit(deps, {
        name: 'stripe-app-account',
        limit: config.STRIPE_APP_RATE_LIMIT_PER_MINUTE,
        windowMs: MINUTE,
        key: (_req, res) => callerOf(res)?.accountId,
        detail: 'Too many Stripe App calls for this Stripe account; see the Retry-After header.',
      }),
      redisRateLimit(deps, {
        name: 'stripe-app-user',
        limit: config.STRIPE_APP_USER_RATE_LIMIT_PER_MINUTE,
        windowMs: MINUTE,
        key: (_req, res) => {
          const caller = callerOf(res);
          return caller && `${caller.accountId}:${caller.userId}`;
        },
        detail: 'Too many Stripe App calls for this Dashboard user; see the Retry-After header.',
      }),
    ],
    signIn: redisRateLimit(deps, {
      name: 'stripe-app-sign-in',
      limit: config.STRIPE_APP_SIGN_IN_RATE_LIMIT_PER_MINUTE,
      windowMs: MINUTE,
      key: (req) => clientAddressKey(req),
      detail: 'Too many sign-in requests from this address; see the Retry-After header.',
    }),
  };
}
