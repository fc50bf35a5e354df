/**
 * Stand-in values for everything the app requires to start with NODE_ENV=production. The bundle test
 * proves this set is enough to boot; the stack test proves the EB environment provides every key.
 */
export const PRODUCTION_ENV = {
  NODE_ENV: 'production',
  ADMIN_TOKEN: 'admin-token-0123456789abcdef',
  STRIPE_SECRET_KEY: 'sk_test_bundle',
  STRIPE_WEBHOOK_SECRET: 'whsec_bundle',
  STRIPE_APP_SECRET: 'absec_bundle',
  STRIPE_REDIRECT_URL: 'https://dashboard.stripe.com/apps/hooklane',
  OAUTH_ISSUER: 'https://id.example.com',
  OAUTH_CLIENT_ID: 'hooklane',
  OAUTH_CLIENT_SECRET: 'oauth-client-secret',
  OAUTH_REDIRECT_URI: 'https://hooklane.example.com/api/stripe-app/oauth/callback',
} as const;
