import { BENCH_WEBHOOK_SECRET } from './signed-events';

/**
 * hooklane's web and worker run as in production (NODE_ENV=production, info logs written to a file), with
 * placeholder values for the Stripe App and OAuth keys production requires; no benchmark calls them.
 */
export const HOOKLANE_ENV: Record<string, string> = {
  NODE_ENV: 'production',
  LOG_LEVEL: 'info',
  ADMIN_TOKEN: 'bench-admin-token-0123456789',
  STRIPE_WEBHOOK_SECRET: BENCH_WEBHOOK_SECRET,
  STRIPE_SECRET_KEY: 'sk_test_bench_placeholder',
  // With a secret key the workers would schedule reconciliation (every 15 min by default) against the real
  // api.stripe.com; bench and fault-suite runs send traffic to loopback only. Scenarios that reconcile point
  // the workers at the emulator and ask for a run (POST /api/admin/reconcile).
  RECONCILE_INTERVAL_MINUTES: '0',
  STRIPE_APP_SECRET: 'absec_bench_placeholder',
  STRIPE_REDIRECT_URL: 'https://dashboard.stripe.com/test/apps-oauth/bench',
  OAUTH_AUTHORIZATION_ENDPOINT: 'https://id.bench.invalid/authorize',
  OAUTH_TOKEN_ENDPOINT: 'https://id.bench.invalid/token',
  OAUTH_USERINFO_ENDPOINT: 'https://id.bench.invalid/userinfo',
  OAUTH_CLIENT_ID: 'bench',
  OAUTH_CLIENT_SECRET: 'bench-client-secret',
  OAUTH_REDIRECT_URI: 'https://hooklane.bench.invalid/api/oauth/authorize',
};
