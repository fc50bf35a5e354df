import { Router, type RequestHandler } from 'express';
import { AppError } from '../errors';
import type { Logger } from '../logger';
import type { StripeAppServices } from '../stripe/stripe-app-services';
import { refusalReport } from './request-context';
import { stripeAppCaller, verifyStripeAppCaller, verifyStripeAppSignature, type StripeAppCaller } from '../stripe/verify-stripe-app-caller';
import type { UserInfo } from '../oauth/oauth-client';

/**
 * Connects a Stripe Dashboard user to their third-party account:
 * /login (signed state) -> provider -> /authorize (code) -> token in the Secret Store -> back to Stripe.
 */
export function oauthRoutes(services: StripeAppServices, logger: Logger): Router {
  const router = Router();
  const signed = verifyStripeAppCaller(services.appSecret, logger);
  router.get('/oauth/login', noStore, login(services, logger));
  router.get('/oauth/authorize', noStore, authorize(services));
  router.get('/oauth/userinfo', signed, noStore, userInfo(services));
  router.get('/oauth/logout', signed, noStore, logout(services));
  return router;
}

const noStore: RequestHandler = (_req, res, next) => {
  res.setHeader('Cache-Control', 'no-store');
  next();
};

/** The Dashboard's sign-in link carries `state={"userId","accountId","signature"}`, signed like any call. */
function login(services: StripeAppServices, logger: Logger): RequestHandler {
  return async (req, res) => {
    const dashboardState = parseJsonObject(req.query.state);
    const caller = verifyStripeAppSignature(
      { userId: dashboardState.userId, accountId: dashboardState.accountId, signature: dashboardState.signature },
      services.appSecret,
      refusalReport(req, res, logger),
    );
    const { state, codeVerifier } = await services.loginStates.begin(caller);
    const url = await services.oauth.authorizationUrl({ state, codeVerifier });
    res.redirect(303, url.href);
  };
}

function parseJsonObject(value: unknown): Record<string, unknown> {
  if (typeof value !== 'string') return {};
  try {
    const parsed: unknown = JSON.parse(value);
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function authorize(services: StripeAppServices): RequestHandler {
  return async (req, res) => {
    // Consumed before anything else, so even a failed callback cannot be replayed.
    const pending = await services.loginStates.consume(req.query.state);
    if (!pending) throw new AppError('OAUTH_STATE_INVALID', 'This sign-in link is unknown, expired or already used; start again.');
    const query = new URL(req.originalUrl, 'http://callback.invalid').searchParams;
    const tokens = await services.oauth.exchangeCode(query, {
      expectedState: query.get('state') ?? '',
      codeVerifier: pending.codeVerifier,
    });
    await services.secretStore.storeTokens(pending.caller, tokens);
    req.log?.info({ userId: pending.caller.userId, accountId: pending.caller.accountId }, 'third-party account connected');
    res.redirect(303, services.redirectUrl);
  };
}

function userInfo(services: StripeAppServices): RequestHandler {
  return async (_req, res) => {
    const caller = stripeAppCaller(res);
    const accessToken = await services.secretStore.findAccessToken(caller);
    if (!accessToken) throw new AppError('OAUTH_NOT_CONNECTED', 'No third-party account is connected for this user.');
    const user = await userInfoRefreshingOnce(services, caller, accessToken);
    if (user.email_verified !== true) {
      throw new AppError('OAUTH_EMAIL_NOT_VERIFIED', 'The connected account has no verified email address.');
    }
    res.json(user);
  };
}

/** A refused access token is renewed once with the stored refresh token, if there is one. */
async function userInfoRefreshingOnce(
  services: StripeAppServices,
  caller: StripeAppCaller,
  accessToken: string,
): Promise<UserInfo> {
  try {
    return await services.oauth.userInfo(accessToken);
  } catch (err) {
    if (!(err instanceof AppError) || err.code !== 'OAUTH_PROVIDER_REJECTED') throw err;
    const refreshToken = await services.secretStore.findRefreshToken(caller);
    if (!refreshToken) throw err;
    const tokens = await services.oauth.refresh(refreshToken);
    await services.secretStore.storeTokens(caller, tokens);
    return services.oauth.userInfo(tokens.accessToken);
  }
}

function logout(services: StripeAppServices): RequestHandler {
  return async (_req, res) => {
    const caller = stripeAppCaller(res);
    const accessToken = await services.secretStore.findAccessToken(caller);
    const refreshToken = await services.secretStore.findRefreshToken(caller);
    await services.secretStore.deleteUserSecrets(caller);
    await services.oauth.revoke({ accessToken, refreshToken });
    res.status(204).end();
  };
}
