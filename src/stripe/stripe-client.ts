import Stripe from 'stripe';
import type { Config } from '../config';

export type StripeClientConfig = Pick<Config, 'STRIPE_SECRET_KEY' | 'STRIPE_API_BASE' | 'STRIPE_API_TIMEOUT_MS'>;

/**
 * The one place stripe-node is built. `STRIPE_API_BASE` points it at another host (the local emulator)
 * through stripe-node's own host/port/protocol options, so every request goes through the real SDK.
 */
export function createStripeClient(config: StripeClientConfig, options: { maxNetworkRetries?: number } = {}): Stripe {
  if (!config.STRIPE_SECRET_KEY) throw new Error('STRIPE_SECRET_KEY is not set');
  return new Stripe(config.STRIPE_SECRET_KEY, {
    ...apiBaseOptions(config.STRIPE_API_BASE),
    timeout: config.STRIPE_API_TIMEOUT_MS,
    // Budgeted callers pass 0: each of their HTTP requests must take its own slot of the shared budget.
    maxNetworkRetries: options.maxNetworkRetries ?? 2,
    appInfo: { name: 'hooklane' },
  });
}

function apiBaseOptions(base: string | undefined): Pick<Stripe.StripeConfig, 'host' | 'port' | 'protocol'> {
  if (!base) return {};
  const url = new URL(base);
  const protocol = url.protocol === 'http:' ? 'http' : 'https';
  return { host: url.hostname, port: Number(url.port) || (protocol === 'http' ? 80 : 443), protocol };
}

/** stripe-node's signature checks need no API key; the static helper serves callers without one. */
export const stripeSignatures = (() => {
  const signature = Stripe.webhooks.signature;
  if (!signature) throw new Error('stripe-node did not initialise its webhook signature helper');
  return signature;
})();

/** Signs payloads the way Stripe does (the dev dashboard and tests play Stripe with it). */
export function signLikeStripe(payload: string, secret: string, timestamp?: number): string {
  return Stripe.webhooks.generateTestHeaderString({ payload, secret, ...(timestamp ? { timestamp } : {}) });
}
