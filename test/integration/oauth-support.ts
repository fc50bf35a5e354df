import { randomBytes } from 'node:crypto';
import { signLikeStripe } from '../../src/stripe/stripe-client';
import { startOidcProvider, type OidcProvider } from '../../src/dev/oidc-provider';
import { startStripeEmulator, type StripeEmulator } from '../../src/dev/stripe-emulator';

/** The redirect URI registered at the provider; the test replays its path and query against the app. */
export const REDIRECT_URI = 'http://hooklane.test/api/oauth/authorize';
export const STRIPE_REDIRECT_URL = 'https://dashboard.stripe.com/test/apps/com.hooklane.app';
export const DEMO_PASSWORD = 'demo-password';

export interface OAuthWorld {
  provider: OidcProvider;
  stripe: StripeEmulator;
  appEnv: Record<string, string>;
  appSecret: string;
  stop(): Promise<void>;
}

/** The real local provider (child process) and the Stripe emulator, plus the app env that points at both. */
export async function startOAuthWorld(): Promise<OAuthWorld> {
  const clientSecret = randomBytes(16).toString('hex');
  const secretKey = `sk_test_${randomBytes(12).toString('hex')}`;
  const appSecret = `absec_${randomBytes(12).toString('hex')}`;
  const [provider, stripe] = await Promise.all([
    startOidcProvider({
      clientId: 'hooklane-test',
      clientSecret,
      redirectUris: [REDIRECT_URI],
      cookieKey: randomBytes(16).toString('hex'),
      demoPassword: DEMO_PASSWORD,
    }),
    startStripeEmulator({ secretKey }),
  ]);
  return {
    provider,
    stripe,
    appSecret,
    appEnv: {
      STRIPE_SECRET_KEY: secretKey,
      STRIPE_API_BASE: stripe.url,
      STRIPE_APP_SECRET: appSecret,
      STRIPE_REDIRECT_URL,
      OAUTH_ISSUER: provider.issuer,
      OAUTH_CLIENT_ID: 'hooklane-test',
      OAUTH_CLIENT_SECRET: clientSecret,
      OAUTH_REDIRECT_URI: REDIRECT_URI,
    },
    stop: async () => {
      await Promise.all([provider.stop(), stripe.stop()]);
    },
  };
}

export interface DashboardUser {
  userId: string;
  accountId: string;
}

export function newDashboardUser(): DashboardUser {
  return { userId: `usr_${randomBytes(7).toString('hex')}`, accountId: `acct_${randomBytes(8).toString('hex')}` };
}

/** The headers the Stripe Dashboard sends with a signed call. */
export function signedHeaders(user: DashboardUser, appSecret: string): Record<string, string> {
  const payload = JSON.stringify({ user_id: user.userId, account_id: user.accountId });
  return {
    'stripe-signature': signLikeStripe(payload, appSecret),
    'stripe-user-id': user.userId,
    'stripe-account-id': user.accountId,
  };
}

/** The sign-in link the Stripe App UI builds: /api/oauth/login?state={userId, accountId, signature}. */
export function loginUrl(appUrl: string, user: DashboardUser, appSecret: string, override: Partial<DashboardUser> = {}): string {
  const signature = signedHeaders(user, appSecret)['stripe-signature'];
  const state = JSON.stringify({ ...user, ...override, signature });
  return `${appUrl}/api/oauth/login?state=${encodeURIComponent(state)}`;
}

/** A cookie jar for the browser side of the provider's interaction (cookies by name; good enough here). */
export class Browser {
  private readonly cookies = new Map<string, string>();

  cookieNames(): string[] {
    return [...this.cookies.keys()];
  }

  async request(url: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size) headers.set('cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    const res = await fetch(url, { ...init, headers, redirect: 'manual' });
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      if (!value || /expires=Thu, 01 Jan 1970/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return res;
  }

  /** Follows redirects until one points at `stopAt` (returned, not fetched) or a page answers. */
  async follow(url: string, stopAt: string): Promise<{ stoppedAt?: string; page?: Response; pageUrl: string }> {
    let current = url;
    for (let hops = 0; hops < 20; hops += 1) {
      const res = await this.request(current);
      const location = res.headers.get('location');
      if (res.status < 300 || res.status >= 400 || !location) return { page: res, pageUrl: current };
      await res.arrayBuffer();
      const next = new URL(location, current).href;
      if (next.startsWith(stopAt)) return { stoppedAt: next, pageUrl: current };
      current = next;
    }
    throw new Error(`too many redirects from ${url}`);
  }

  async postForm(url: string, form: Record<string, string>): Promise<Response> {
    return this.request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
    });
  }
}

/**
 * Drives the provider like a person would: from its authorize URL through the sign-in form and the
 * consent page (or a click on Cancel) to the redirect back to hooklane, which is returned unfetched.
 */
export async function signInAtProvider(
  authorizeUrl: string,
  account: { email: string; password: string } | 'deny',
): Promise<string> {
  const browser = new Browser();
  let step = await browser.follow(authorizeUrl, REDIRECT_URI);
  for (let pages = 0; pages < 4 && !step.stoppedAt; pages += 1) {
    const html = await step.page!.text();
    if (step.page!.status !== 200) throw new Error(`provider answered ${step.page!.status}: ${html.slice(0, 500)}`);
    const uid = /\/interaction\/([^/"]+)\//.exec(html)?.[1];
    if (!uid) throw new Error(`no interaction form in ${html.slice(0, 500)}`);
    const origin = new URL(step.pageUrl).origin;
    let res: Response;
    if (account === 'deny') res = await browser.postForm(`${origin}/interaction/${uid}/abort`, {});
    else if (html.includes('/login"')) res = await browser.postForm(`${origin}/interaction/${uid}/login`, account);
    else res = await browser.postForm(`${origin}/interaction/${uid}/consent`, {});
    await res.arrayBuffer();
    const location = res.headers.get('location');
    if (!location) throw new Error(`provider form answered ${res.status} without a redirect`);
    step = await browser.follow(new URL(location, origin).href, REDIRECT_URI);
  }
  if (!step.stoppedAt) throw new Error('the provider never redirected back to hooklane');
  return step.stoppedAt;
}

/** The provider's redirect, sent to the app under test instead of the registered host. */
export function callbackOnApp(appUrl: string, redirect: string): string {
  const url = new URL(redirect);
  return `${appUrl}${url.pathname}${url.search}`;
}
