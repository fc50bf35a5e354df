import type { Redis } from 'ioredis';
import { missingStripeAppKeys, type Config } from '../config';
import type { Logger } from '../logger';
import { LoginStates } from '../oauth/login-states';
import { OAuthClient } from '../oauth/oauth-client';
import { RefreshLock } from '../oauth/refresh-lock';
import { TokenRefresher } from '../oauth/token-refresh';
import { SecretStore } from './secret-store';
import { paymentEventsFromIndex } from './payment-events';
import { createStripeClient } from './stripe-client';
import type { PaymentEventsLookup } from '../web/payment-status-routes';

/** What the Stripe App routes use, built once per process from config. */
export interface StripeAppServices {
  appSecret: string;
  redirectUrl: string;
  secretStore: SecretStore;
  oauth: OAuthClient;
  loginStates: LoginStates;
  /** Renews a refused access token once across all instances (refresh tokens may be single-use). */
  tokenRefresher: TokenRefresher;
  /** The event index, for the payment status route. */
  paymentEvents?: PaymentEventsLookup;
}

/** Builds the services, or returns the missing keys when the Stripe App is not configured (never in production). */
export function createStripeAppServices(
  config: Config,
  redis: Redis,
  logger: Logger,
): { services: StripeAppServices } | { missing: string[] } {
  const missing = missingStripeAppKeys(config);
  if (missing.length) return { missing };
  const stripe = createStripeClient(config);
  const secretStore = new SecretStore({ stripe, redis, keyPrefix: config.QUEUE_PREFIX, redisDeadlineMs: config.ENQUEUE_TIMEOUT_MS });
  const oauth = new OAuthClient(config, logger);
  return {
    services: {
      appSecret: config.STRIPE_APP_SECRET!,
      redirectUrl: config.STRIPE_REDIRECT_URL!,
      secretStore,
      oauth,
      tokenRefresher: new TokenRefresher({
        secretStore,
        oauth,
        lock: new RefreshLock(redis, config.QUEUE_PREFIX, config.ENQUEUE_TIMEOUT_MS),
        // Under the lock: two Secret Store reads, the provider's token call, then the new tokens stored.
        lockTtlMs: config.OAUTH_TIMEOUT_MS + 4 * config.STRIPE_API_TIMEOUT_MS,
      }),
      loginStates: new LoginStates(redis, config.QUEUE_PREFIX, config.ENQUEUE_TIMEOUT_MS),
      paymentEvents: paymentEventsFromIndex(redis, config, config.ENQUEUE_TIMEOUT_MS),
    },
  };
}

/**
 * The Secret Store alone, for processes that only delete tokens (the worker's
 * `account.application.deauthorized` handler). Undefined when STRIPE_SECRET_KEY is not set.
 */
export function createSecretStore(
  config: Pick<Config, 'STRIPE_SECRET_KEY' | 'STRIPE_API_BASE' | 'STRIPE_API_TIMEOUT_MS' | 'QUEUE_PREFIX'>,
  redis: Redis,
  redisDeadlineMs = 5000,
): SecretStore | undefined {
  if (!config.STRIPE_SECRET_KEY) return undefined;
  return new SecretStore({ stripe: createStripeClient(config), redis, keyPrefix: config.QUEUE_PREFIX, redisDeadlineMs });
}
