import { Router, type Request, type RequestHandler, type Response } from 'express';
import { AppError } from '../errors';
import type { Logger } from '../logger';
import type { StripeAppServices } from '../stripe/stripe-app-services';
import { refusalReport } from './request-context';
import { stripeAppCaller, verifyStripeAppCaller, verifyStripeAppSignature, type StripeAppCaller } from '../stripe/verify-stripe-app-caller';
import type { UserInfo } from '../oauth/oauth-client';
import { LOGIN_STATE_TTL_SECONDS, loginCookieName } from '../oauth/login-states';

/**
 * Connects a Stripe Dashboard user to their third-party account:
 * /login (signed state; a nonce cookie for this browser) -> provider -> /authorize (code, and the same
 * browser's cookie) -> token in the Secret Store -> back to Stripe.
 */
export function oauthRoutes(services: StripeAppServices, logger: Logger, limits: RequestHandler[] = []): Router {
  const router = Router();
  // The rate limits count for the caller Stripe signed for, so they run after the signature check.
  const signed = [verifyStripeAppCaller(services.appSecret, logger), ...limits];
  router.get('/oauth/login', noStore, login(services, logger));
  router.get('/oauth/authorize', noStore, authorize(services));
  router.get('/oauth/userinfo', ...signed, noStore, userInfo(services));
  router.get('/oauth/logout', ...signed, noStore, logout(services));
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
    const { state, codeVerifier, browserNonce } = await services.loginStates.begin(caller);
    const url = await services.oauth.authorizationUrl({ state, codeVerifier });
    res.cookie(loginCookieName(state), browserNonce, { ...loginCookieOptions(req), maxAge: LOGIN_STATE_TTL_SECONDS * 1000 });
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

/**
 * The browser nonce cookie binds a sign-in to the browser that started it (login CSRF: otherwise a user
 * could send their own provider link to a victim and get the victim's account connected to theirs).
 * HttpOnly and Secure (browsers accept Secure cookies from http://localhost, so `npm start` works too);
 * SameSite=Lax still sends it on the provider's top-level redirect back; only /api/oauth ever sees it.
 */
function loginCookieOptions(req: Request) {
  return { httpOnly: true, secure: true, sameSite: 'lax', path: `${req.baseUrl}/oauth` } as const;
}

function readCookie(req: Request, name: string): string | undefined {
  for (const pair of (req.headers.cookie ?? '').split(';')) {
    const eq = pair.indexOf('=');
    if (eq > 0 && pair.slice(0, eq).trim() === name) return pair.slice(eq + 1).trim();
  }
  return undefined;
}

function clearLoginCookie(req: Request, res: Response, state: string): void {
  res.clearCookie(loginCookieName(state), loginCookieOptions(req));
}

function authorize(services: StripeAppServices): RequestHandler {
  return async (req, res) => {
    const { state } = req.query;
    const nonce = typeof state === 'string' ? readCookie(req, loginCookieName(state)) : undefined;
    // Consumed before anything else (even when the browser does not match), so a callback is never replayed.
    const pending = await services.loginStates.consume(state, nonce);
    if (!pending) throw new AppError('OAUTH_STATE_INVALID', 'This sign-in link is unknown, expired or already used; start again.');
    if (!pending.sameBrowser) {
      // Who started it: in a login CSRF attempt, the attacker's own Stripe user.
      req.log?.warn({ userId: pending.caller.userId, accountId: pending.caller.accountId }, 'sign-in finished in another browser; refused');
      throw new AppError(
        'OAUTH_BROWSER_MISMATCH',
        'This sign-in was started in another browser. Start again from the Stripe Dashboard in this browser.',
      );
    }
    const query = new URL(req.originalUrl, 'http://callback.invalid').searchParams;
    const tokens = await services.oauth.exchangeCode(query, {
      expectedState: query.get('state') ?? '',
      codeVerifier: pending.codeVerifier,
    });
    await services.secretStore.storeTokens(pending.caller, tokens);
    req.log?.info({ userId: pending.caller.userId, accountId: pending.caller.accountId }, 'third-party account connected');
    clearLoginCookie(req, res, String(state));
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

/**
 * A refused access token is renewed once with the stored refresh token, if there is one; concurrent
 * requests share one renewal (TokenRefresher), because a refresh token may be good for one use only.
 */
async function userInfoRefreshingOnce(
  services: StripeAppServices,
  caller: StripeAppCaller,
  accessToken: string,
): Promise<UserInfo> {
  try {
    return await services.oauth.userInfo(accessToken);
  } catch (err) {
    if (!(err instanceof AppError) || err.code !== 'OAUTH_PROVIDER_REJECTED') throw err;
    const renewed = await services.tokenRefresher.renew(caller, accessToken);
    if (!renewed) throw err;
    return services.oauth.userInfo(renewed);
  }
}

function logout(services: StripeAppServices): RequestHandler {
  return async (_req, res) => {
    const caller = stripeAppCaller(res);
    // A sign-in begun before signing out must not connect the account afterwards.
    await services.loginStates.cancelAll(caller);
    const accessToken = await services.secretStore.findAccessToken(caller);
    const refreshToken = await services.secretStore.findRefreshToken(caller);
    await services.secretStore.deleteUserSecrets(caller);
    await services.oauth.revoke({ accessToken, refreshToken });
    res.status(204).end();
  };
}
