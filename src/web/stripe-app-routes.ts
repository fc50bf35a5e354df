import { Router } from 'express';
import type { Redis } from 'ioredis';
import type { Config } from '../config';
import { AppError } from '../errors';
import type { Logger } from '../logger';
import { createStripeAppServices, type StripeAppServices } from '../stripe/stripe-app-services';
import { stripeAppCors } from '../stripe/verify-stripe-app-caller';
import { oauthRoutes } from './oauth-routes';
import { paymentStatusRoutes } from './payment-status-routes';
import { stripeAppRateLimits } from './stripe-app-rate-limits';

export interface StripeAppRouteDeps {
  config: Config;
  logger: Logger;
  redis: Redis;
  /** Built from config when absent. */
  stripeApp?: StripeAppServices;
}

const STRIPE_APP_PATHS = ['/oauth', '/app'];
const SIGN_IN_PATHS = ['/oauth/login', '/oauth/authorize'];

/** Everything the Stripe App's UI extension calls, mounted under /api; every route is rate limited. */
export function stripeAppRoutes(deps: StripeAppRouteDeps): Router {
  const router = Router();
  router.use(STRIPE_APP_PATHS, stripeAppCors());
  const built = deps.stripeApp ? { services: deps.stripeApp } : createStripeAppServices(deps.config, deps.redis, deps.logger);
  if ('missing' in built) {
    router.use(STRIPE_APP_PATHS, () => {
      throw new AppError('STRIPE_APP_NOT_CONFIGURED', `Set ${built.missing.join(', ')}.`);
    });
    return router;
  }
  const limits = stripeAppRateLimits(deps);
  router.use(SIGN_IN_PATHS, limits.signIn);
  router.use(oauthRoutes(built.services, deps.logger, limits.signed));
  router.use(paymentStatusRoutes(built.services.appSecret, built.services.paymentEvents, deps.logger, limits.signed));
  return router;
}
