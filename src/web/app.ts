import express, { type Express, type RequestHandler, type Router } from 'express';
import helmet from 'helmet';
import type { Redis } from 'ioredis';
import type { Config } from '../config';
import type { Lifecycle } from '../lifecycle';
import type { Logger } from '../logger';
import type { Queues } from '../queues';
import type { MemoryHighWater } from '../redis-memory-guard';
import { adminRoutes } from './admin-routes';
import { consoleStatic } from './console-static';
import { healthRoutes } from './health-routes';
import { eventsRoutes } from './events-routes';
import { jobsRoutes } from './jobs-routes';
import { methodNotAllowed } from './method-not-allowed';
import { openapiRoute } from './openapi-route';
import { notFoundHandler, problemHandler } from './problem';
import { requestContext } from './request-context';
import { webhookRoute } from './webhook-route';
import { stripeAppRoutes } from './stripe-app-routes';
import type { StripeAppServices } from '../stripe/stripe-app-services';

export interface AppDeps {
  config: Config;
  logger: Logger;
  /** The producer connection (fails fast while Redis is away). */
  redis: Redis;
  queues: Queues;
  lifecycle: Lifecycle;
  /** Stripe App back-end services; built from config when absent. */
  stripeApp?: StripeAppServices;
  /** Webhook intake stops over Redis's memory high-water mark (see RedisMemoryGuard). */
  memoryGuard?: MemoryHighWater;
  /**
   * The local-only pages under /dev (the dev Stripe Dashboard). Only web/main.ts passes them, and only
   * when `npm start`'s supervisor set DEV_ROUTES; this module never imports dev/.
   */
  devRoutes?: Router;
}

/** While shutting down, every answer asks the client (or the load balancer) to stop reusing the connection. */
function closeConnectionsWhileShuttingDown(lifecycle: Lifecycle): RequestHandler {
  return (_req, res, next) => {
    if (lifecycle.shuttingDown) res.setHeader('Connection', 'close');
    next();
  };
}

/** Builds the Express app; never listens (web/main.ts does). */
export function createApp(deps: AppDeps): Express {
  const { config, logger, lifecycle } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', config.TRUST_PROXY);
  app.set('query parser', 'simple');

  app.use(requestContext(logger));
  // Stripe webhooks first: the hot path, raw body, nothing else in front of it but the request id and log line.
  app.use(webhookRoute(deps));
  app.use(helmet());
  app.use(closeConnectionsWhileShuttingDown(lifecycle));
  app.use(healthRoutes(deps));

  const api: Router = express.Router();
  api.use(openapiRoute());
  api.use(jobsRoutes(deps));
  api.use(eventsRoutes(deps));
  api.use(stripeAppRoutes(deps));
  api.use('/admin', adminRoutes(deps));
  app.use('/api', api);
  if (deps.devRoutes) app.use('/dev', deps.devRoutes);
  app.use(consoleStatic());

  app.use(methodNotAllowed(app));
  app.use(notFoundHandler);
  app.use(problemHandler(logger));
  return app;
}
