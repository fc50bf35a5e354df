import { Router, type RequestHandler } from 'express';
import type { Config } from '../config';
import { AppError } from '../errors';
import { signLikeStripe } from '../stripe/stripe-client';
import { DASHBOARD_HTML, DASHBOARD_ICON, DASHBOARD_SCRIPT } from './dashboard-page-assets';

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

// Headers a reverse proxy adds: a request that carries one came from somewhere else, whatever the socket says.
const PROXY_HEADERS = ['forwarded', 'x-forwarded-for', 'x-forwarded-host', 'x-real-ip'];

/**
 * A signing oracle must never be reachable from another machine, even in development: loopback clients
 * only, and not through a proxy on the same host (its socket is loopback too).
 */
const loopbackOnly: RequestHandler = (req, _res, next) => {
  const proxied = PROXY_HEADERS.some((header) => req.headers[header] !== undefined);
  if (proxied || !LOOPBACK.has(req.socket.remoteAddress ?? '')) throw new AppError('NOT_FOUND');
  next();
};

/**
 * GET /dev/dashboard: a page that plays the Stripe Dashboard for `npm start` (web/main.ts mounts it only
 * when the local supervisor sets DEV_ROUTES). It asks the server for a signature over {user_id, account_id} (what `fetchStripeSignature` returns inside Stripe) and calls the
 * Stripe App routes with it: sign in, see the connected user, sign out, look up a payment's events.
 */
export function devDashboardRoutes(config: Pick<Config, 'STRIPE_APP_SECRET'>): Router {
  const router = Router();
  router.use(loopbackOnly);
  router.get('/dashboard', (_req, res) => {
    res.type('html').send(DASHBOARD_HTML);
  });
  router.get('/dashboard/app.js', (_req, res) => {
    res.type('js').send(DASHBOARD_SCRIPT);
  });
  router.get('/dashboard/favicon.svg', (_req, res) => {
    res.type('svg').setHeader('Cache-Control', 'public, max-age=86400');
    res.send(DASHBOARD_ICON);
  });
  router.get('/dashboard/signature', (req, res) => {
    if (!config.STRIPE_APP_SECRET) throw new AppError('STRIPE_APP_NOT_CONFIGURED', 'STRIPE_APP_SECRET is not set.');
    const { userId, accountId } = req.query;
    if (typeof userId !== 'string' || typeof accountId !== 'string') {
      throw new AppError('VALIDATION_FAILED', 'userId and accountId are required.');
    }
    const payload = JSON.stringify({ user_id: userId, account_id: accountId });
    res.setHeader('Cache-Control', 'no-store');
    res.json({ signature: signLikeStripe(payload, config.STRIPE_APP_SECRET) });
  });
  return router;
}
