import { startRedis, type TestRedis } from '../support/redis';
import { startTestApp, type TestApp } from '../support/app';
import {
  Browser,
  DEMO_PASSWORD,
  REDIRECT_URI,
  STRIPE_REDIRECT_URL,
  callbackOnApp,
  loginUrl,
  newDashboardUser,
  signInAtProvider,
  signedHeaders,
  startOAuthWorld,
  type DashboardUser,
  type OAuthWorld,
} from './oauth-support';

const DEMO = { email: 'demo@example.com', password: DEMO_PASSWORD };

let redis: TestRedis;
let world: OAuthWorld;
let app: TestApp;

beforeAll(async () => {
  [redis, world] = await Promise.all([startRedis({ appendOnly: false }), startOAuthWorld()]);
});
afterAll(async () => {
  await Promise.all([redis?.destroy(), world?.stop()]);
});
beforeEach(async () => {
  app = await startTestApp(redis.url, world.appEnv);
});
afterEach(async () => {
  await app.close();
});

async function login(user: DashboardUser, browser = new Browser()): Promise<Response> {
  return browser.request(loginUrl(app.url, user, world.appSecret));
}

/** The provider's redirect back to hooklane, not yet followed, and the browser that started the sign-in. */
interface Callback {
  url: string;
  browser: Browser;
  /** Follows the redirect in the browser that started the sign-in (with its cookies). */
  open(): Promise<Response>;
}

/** /login in `browser`, then the provider's pages, up to the redirect back (returned, not yet fetched). */
async function signIn(
  user: DashboardUser,
  account: { email: string; password: string } | 'deny' = DEMO,
  browser = new Browser(),
): Promise<Callback> {
  const res = await login(user, browser);
  expect(res.status).toBe(303);
  const url = callbackOnApp(app.url, await signInAtProvider(res.headers.get('location')!, account));
  return { url, browser, open: () => browser.request(url) };
}

function call(path: string, user: DashboardUser): Promise<Response> {
  return fetch(`${app.url}${path}`, { headers: signedHeaders(user, world.appSecret) });
}

async function problemOf(res: Response): Promise<{ code: string; title: string; status: number }> {
  expect(res.headers.get('content-type')).toContain('application/problem+json');
  return (await res.json()) as { code: string; title: string; status: number };
}

describe('the OAuth connection of a Stripe Dashboard user', () => {
  test('login redirects to the provider with the code flow, PKCE S256 and a one-time state', async () => {
    const res = await login(newDashboardUser());

    expect(res.status).toBe(303);
    const location = new URL(res.headers.get('location')!);
    expect(location.origin).toBe(world.provider.issuer);
    expect(location.searchParams.get('response_type')).toBe('code');
    expect(location.searchParams.get('client_id')).toBe('hooklane-test');
    expect(location.searchParams.get('redirect_uri')).toBe(REDIRECT_URI);
    expect(location.searchParams.get('code_challenge_method')).toBe('S256');
    expect(location.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(location.searchParams.get('state')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(location.searchParams.get('scope')).toBe('openid email profile offline_access');
  });

  test('sign in, tokens in the Secret Store, userinfo 200, logout 204, then userinfo 401', async () => {
    const user = newDashboardUser();

    const callback = await (await signIn(user)).open();
    expect(callback.status).toBe(303);
    expect(callback.headers.get('location')).toBe(STRIPE_REDIRECT_URL);

    const stored = world.stripe.secrets.all(user.accountId);
    expect(stored.map((s) => s.name).sort()).toEqual(['access_token', 'refresh_token']);
    expect(stored.every((s) => s.scope.type === 'user' && s.scope.user === user.userId)).toBe(true);

    const info = await call('/api/oauth/userinfo', user);
    expect(info.status).toBe(200);
    expect(await info.json()).toMatchObject({ sub: 'demo-user', email: 'demo@example.com', email_verified: true });

    const logout = await call('/api/oauth/logout', user);
    expect(logout.status).toBe(204);
    expect(world.stripe.secrets.all(user.accountId)).toEqual([]);

    const after = await call('/api/oauth/userinfo', user);
    expect(after.status).toBe(401);
    expect((await problemOf(after)).code).toBe('OAUTH_NOT_CONNECTED');
  });

  test('logout also revokes the tokens at the provider', async () => {
    const user = newDashboardUser();
    await (await signIn(user)).open();
    const accessToken = world.stripe.secrets.all(user.accountId).find((s) => s.name === 'access_token')!.payload;
    const discovery = await fetch(`${world.provider.issuer}/.well-known/openid-configuration`);
    const { userinfo_endpoint: userinfoEndpoint } = (await discovery.json()) as { userinfo_endpoint: string };
    expect((await fetch(userinfoEndpoint, { headers: { authorization: `Bearer ${accessToken}` } })).status).toBe(200);

    expect((await call('/api/oauth/logout', user)).status).toBe(204);

    expect((await fetch(userinfoEndpoint, { headers: { authorization: `Bearer ${accessToken}` } })).status).toBe(401);
  });

  test('a connection belongs to one Dashboard user: another user of the same account is not connected', async () => {
    const user = newDashboardUser();
    await (await signIn(user)).open();

    const colleague = { ...newDashboardUser(), accountId: user.accountId };
    const res = await call('/api/oauth/userinfo', colleague);

    expect(res.status).toBe(401);
  });

  test('a replayed callback is refused with 400 and stores nothing more', async () => {
    const user = newDashboardUser();
    const callback = await signIn(user);
    expect((await callback.open()).status).toBe(303);

    const storedBefore = world.stripe.secrets.all(user.accountId).map((s) => s.id);

    const replay = await callback.open();

    expect(replay.status).toBe(400);
    expect((await problemOf(replay)).code).toBe('OAUTH_STATE_INVALID');
    expect(world.stripe.secrets.all(user.accountId).map((s) => s.id)).toEqual(storedBefore);
  });

  test('a callback with a made-up state is refused with 400', async () => {
    const res = await fetch(`${app.url}/api/oauth/authorize?code=abc&state=${'x'.repeat(43)}`, { redirect: 'manual' });

    expect(res.status).toBe(400);
    expect((await problemOf(res)).code).toBe('OAUTH_STATE_INVALID');
  });

  test('a login state whose user id was changed after signing is refused with 400', async () => {
    const user = newDashboardUser();

    const res = await fetch(loginUrl(app.url, user, world.appSecret, { userId: 'usr_someoneelse' }), { redirect: 'manual' });

    expect(res.status).toBe(400);
    expect(await problemOf(res)).toMatchObject({ code: 'STRIPE_APP_BAD_SIGNATURE', title: 'Could not verify signature' });
  });

  test('a login without a state is refused with 400 Missing user identifiers', async () => {
    const res = await fetch(`${app.url}/api/oauth/login`, { redirect: 'manual' });

    expect(res.status).toBe(400);
    expect(await problemOf(res)).toMatchObject({ code: 'STRIPE_APP_MISSING_IDENTIFIERS', title: 'Missing user identifiers' });
  });

  test('a user whose email is not verified gets 401 from userinfo', async () => {
    const user = newDashboardUser();
    await (await signIn(user, { email: 'unverified@example.com', password: DEMO_PASSWORD })).open();

    const res = await call('/api/oauth/userinfo', user);

    expect(res.status).toBe(401);
    expect((await problemOf(res)).code).toBe('OAUTH_EMAIL_NOT_VERIFIED');
  });

  test('when the user denies access at the provider, the callback answers 401 and stores nothing', async () => {
    const user = newDashboardUser();

    const res = await (await signIn(user, 'deny')).open();

    expect(res.status).toBe(401);
    expect((await problemOf(res)).code).toBe('OAUTH_PROVIDER_REJECTED');
    expect(world.stripe.secrets.all(user.accountId)).toEqual([]);
  });

  test('a code the provider does not know is refused with 401', async () => {
    const user = newDashboardUser();
    const callback = await signIn(user);
    const tampered = new URL(callback.url);
    tampered.searchParams.set('code', 'not-a-real-code');

    const res = await callback.browser.request(tampered.href);

    expect(res.status).toBe(401);
    expect((await problemOf(res)).code).toBe('OAUTH_PROVIDER_REJECTED');
  });

  test('an access token the provider no longer accepts makes userinfo answer 401', async () => {
    const user = newDashboardUser();
    await (await signIn(user)).open();
    // Replace both tokens behind hooklane's back, as if the provider had revoked them.
    for (const secret of world.stripe.secrets.all(user.accountId)) secret.payload = 'revoked';

    const res = await call('/api/oauth/userinfo', user);

    expect(res.status).toBe(401);
    expect((await problemOf(res)).code).toBe('OAUTH_PROVIDER_REJECTED');
  });

  test('an access token the provider refuses is renewed once with the stored refresh token', async () => {
    const user = newDashboardUser();
    await (await signIn(user)).open();
    const access = world.stripe.secrets.all(user.accountId).find((s) => s.name === 'access_token')!;
    access.payload = 'expired';

    const res = await call('/api/oauth/userinfo', user);

    expect(res.status).toBe(200);
    const renewed = world.stripe.secrets.all(user.accountId).find((s) => s.name === 'access_token')!;
    expect(renewed.payload).not.toBe('expired');
  });
});

describe('sign-in is bound to the browser that started it (login CSRF, account linking)', () => {
  test('the attacker sends their own sign-in link to a victim: the victim\'s browser finishing it gets 400 and nothing is stored', async () => {
    const attacker = newDashboardUser();
    const attackerBrowser = new Browser();
    const started = await login(attacker, attackerBrowser);
    expect(started.status).toBe(303);

    // The victim opens the provider URL, signs in with their own account and is sent back to hooklane
    // in their own browser, which never went through the attacker's /login.
    const callbackUrl = callbackOnApp(app.url, await signInAtProvider(started.headers.get('location')!, DEMO));
    const res = await new Browser().request(callbackUrl);

    expect(res.status).toBe(400);
    expect((await problemOf(res)).code).toBe('OAUTH_BROWSER_MISMATCH');
    expect(world.stripe.secrets.all(attacker.accountId)).toEqual([]);
    // The attempt used the state up: not even the attacker's own browser can finish it afterwards.
    const replay = await attackerBrowser.request(callbackUrl);
    expect(replay.status).toBe(400);
    expect((await problemOf(replay)).code).toBe('OAUTH_STATE_INVALID');
    expect(world.stripe.secrets.all(attacker.accountId)).toEqual([]);
  });

  test('a victim whose browser holds the cookie of their own sign-in still gets 400 on the attacker\'s callback', async () => {
    const attacker = newDashboardUser();
    const victim = newDashboardUser();
    const victimBrowser = new Browser();
    expect((await login(victim, victimBrowser)).status).toBe(303);
    const started = await login(attacker);

    const callbackUrl = callbackOnApp(app.url, await signInAtProvider(started.headers.get('location')!, DEMO));
    const res = await victimBrowser.request(callbackUrl);

    expect(res.status).toBe(400);
    expect((await problemOf(res)).code).toBe('OAUTH_BROWSER_MISMATCH');
    expect(world.stripe.secrets.all(attacker.accountId)).toEqual([]);
    expect(world.stripe.secrets.all(victim.accountId)).toEqual([]);
  });

  test('a forged cookie for the attacker\'s state is refused with 400', async () => {
    const attacker = newDashboardUser();
    const attackerBrowser = new Browser();
    const started = await login(attacker, attackerBrowser);
    const cookieName = attackerBrowser.cookieNames().find((name) => name.startsWith('hooklane_login_'))!;
    expect(cookieName).toBeDefined();

    const callbackUrl = callbackOnApp(app.url, await signInAtProvider(started.headers.get('location')!, DEMO));
    const res = await fetch(callbackUrl, { redirect: 'manual', headers: { cookie: `${cookieName}=${'A'.repeat(43)}` } });

    expect(res.status).toBe(400);
    expect((await problemOf(res)).code).toBe('OAUTH_BROWSER_MISMATCH');
    expect(world.stripe.secrets.all(attacker.accountId)).toEqual([]);
  });

  test('login sets an HttpOnly, Secure, SameSite=Lax cookie for /api/oauth that lives as long as the state; a successful callback clears it', async () => {
    const user = newDashboardUser();
    const browser = new Browser();

    const res = await login(user, browser);

    const [cookie] = res.headers.getSetCookie();
    expect(cookie).toMatch(/^hooklane_login_[A-Za-z0-9_-]+=[A-Za-z0-9_-]{43};/);
    expect(cookie).toMatch(/; Max-Age=600(;|$)/);
    expect(cookie).toMatch(/; Path=\/api\/oauth(;|$)/);
    expect(cookie).toMatch(/; HttpOnly(;|$)/);
    expect(cookie).toMatch(/; Secure(;|$)/);
    expect(cookie).toMatch(/; SameSite=Lax(;|$)/);

    const callbackUrl = callbackOnApp(app.url, await signInAtProvider(res.headers.get('location')!, DEMO));
    const done = await browser.request(callbackUrl);
    expect(done.status).toBe(303);
    const cleared = done.headers.getSetCookie().find((line) => line.startsWith(cookie!.split('=')[0]!));
    expect(cleared).toMatch(/Expires=Thu, 01 Jan 1970/);
    expect(browser.cookieNames()).toEqual([]);
  });

  test('logout cancels the user\'s pending sign-ins: start login, logout, then the callback answers 400 and stores nothing', async () => {
    const user = newDashboardUser();
    const browser = new Browser();
    const started = await login(user, browser);
    expect((await call('/api/oauth/logout', user)).status).toBe(204);

    const callbackUrl = callbackOnApp(app.url, await signInAtProvider(started.headers.get('location')!, DEMO));
    const res = await browser.request(callbackUrl);

    expect(res.status).toBe(400);
    expect((await problemOf(res)).code).toBe('OAUTH_STATE_INVALID');
    expect(world.stripe.secrets.all(user.accountId)).toEqual([]);
  });

  test('two sign-ins started in one browser can both finish', async () => {
    const user = newDashboardUser();
    const browser = new Browser();
    const first = await signIn(user, DEMO, browser);
    const second = await signIn(user, DEMO, browser);

    expect((await second.open()).status).toBe(303);
    expect((await first.open()).status).toBe(303);
  });
});

describe('token refresh against a provider that rotates refresh tokens (a reused refresh token revokes the grant)', () => {
  test('five concurrent userinfo calls on two instances with an expired access token all answer 200, and the grant survives', async () => {
    const user = newDashboardUser();
    expect((await (await signIn(user)).open()).status).toBe(303);
    const other = await startTestApp(redis.url, { ...world.appEnv, QUEUE_PREFIX: app.deps.config.QUEUE_PREFIX });
    const stored = (name: string) => world.stripe.secrets.all(user.accountId).find((s) => s.name === name)!;
    try {
      const refreshBefore = stored('refresh_token').payload;
      stored('access_token').payload = 'expired';

      const answers = await Promise.all(
        [app, other, app, other, app].map((instance) =>
          fetch(`${instance.url}/api/oauth/userinfo`, { headers: signedHeaders(user, world.appSecret) }),
        ),
      );

      expect(answers.map((res) => res.status)).toEqual([200, 200, 200, 200, 200]);
      // The provider rotated the refresh token, and the one hooklane kept is the live one: the next
      // expiry is renewed again instead of finding the grant revoked.
      expect(stored('refresh_token').payload).not.toBe(refreshBefore);
      stored('access_token').payload = 'expired';
      const later = await call('/api/oauth/userinfo', user);
      expect(later.status).toBe(200);
    } finally {
      await other.close();
    }
  });
});

describe('the Stripe App routes and the browser', () => {
  test('a preflight from the sandboxed extension (Origin: null) is allowed with the Stripe headers', async () => {
    const res = await fetch(`${app.url}/api/oauth/userinfo`, {
      method: 'OPTIONS',
      headers: {
        origin: 'null',
        'access-control-request-method': 'GET',
        'access-control-request-headers': 'stripe-signature,stripe-user-id,stripe-account-id,content-type',
      },
    });

    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('access-control-allow-headers')).toContain('stripe-signature');
    expect(res.headers.get('access-control-allow-headers')).toContain('stripe-account-id');
  });

  test('errors carry the CORS header too, so the extension can read them', async () => {
    const res = await call('/api/oauth/userinfo', newDashboardUser());

    expect(res.status).toBe(401);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
  });
});
