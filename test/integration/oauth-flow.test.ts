import { startRedis, type TestRedis } from '../support/redis';
import { startTestApp, type TestApp } from '../support/app';
import {
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

async function login(user: DashboardUser): Promise<Response> {
  return fetch(loginUrl(app.url, user, world.appSecret), { redirect: 'manual' });
}

/** /login, the provider's pages, and the redirect back: returns hooklane's callback URL, not yet fetched. */
async function signIn(user: DashboardUser, account: { email: string; password: string } | 'deny' = DEMO): Promise<string> {
  const res = await login(user);
  expect(res.status).toBe(303);
  return callbackOnApp(app.url, await signInAtProvider(res.headers.get('location')!, account));
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

    const callback = await fetch(await signIn(user), { redirect: 'manual' });
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
    await fetch(await signIn(user), { redirect: 'manual' });
    const accessToken = world.stripe.secrets.all(user.accountId).find((s) => s.name === 'access_token')!.payload;
    const discovery = await fetch(`${world.provider.issuer}/.well-known/openid-configuration`);
    const { userinfo_endpoint: userinfoEndpoint } = (await discovery.json()) as { userinfo_endpoint: string };
    expect((await fetch(userinfoEndpoint, { headers: { authorization: `Bearer ${accessToken}` } })).status).toBe(200);

    expect((await call('/api/oauth/logout', user)).status).toBe(204);

    expect((await fetch(userinfoEndpoint, { headers: { authorization: `Bearer ${accessToken}` } })).status).toBe(401);
  });

  test('a connection belongs to one Dashboard user: another user of the same account is not connected', async () => {
    const user = newDashboardUser();
    await fetch(await signIn(user), { redirect: 'manual' });

    const colleague = { ...newDashboardUser(), accountId: user.accountId };
    const res = await call('/api/oauth/userinfo', colleague);

    expect(res.status).toBe(401);
  });

  test('a replayed callback is refused with 400 and stores nothing more', async () => {
    const user = newDashboardUser();
    const callbackUrl = await signIn(user);
    expect((await fetch(callbackUrl, { redirect: 'manual' })).status).toBe(303);

    const storedBefore = world.stripe.secrets.all(user.accountId).map((s) => s.id);

    const replay = await fetch(callbackUrl, { redirect: 'manual' });

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
    await fetch(await signIn(user, { email: 'unverified@example.com', password: DEMO_PASSWORD }), { redirect: 'manual' });

    const res = await call('/api/oauth/userinfo', user);

    expect(res.status).toBe(401);
    expect((await problemOf(res)).code).toBe('OAUTH_EMAIL_NOT_VERIFIED');
  });

  test('when the user denies access at the provider, the callback answers 401 and stores nothing', async () => {
    const user = newDashboardUser();

    const res = await fetch(await signIn(user, 'deny'), { redirect: 'manual' });

    expect(res.status).toBe(401);
    expect((await problemOf(res)).code).toBe('OAUTH_PROVIDER_REJECTED');
    expect(world.stripe.secrets.all(user.accountId)).toEqual([]);
  });

  test('a code the provider does not know is refused with 401', async () => {
    const user = newDashboardUser();
    const callback = new URL(await signIn(user));
    callback.searchParams.set('code', 'not-a-real-code');

    const res = await fetch(callback, { redirect: 'manual' });

    expect(res.status).toBe(401);
    expect((await problemOf(res)).code).toBe('OAUTH_PROVIDER_REJECTED');
  });

  test('an access token the provider no longer accepts makes userinfo answer 401', async () => {
    const user = newDashboardUser();
    await fetch(await signIn(user), { redirect: 'manual' });
    // Replace both tokens behind hooklane's back, as if the provider had revoked them.
    for (const secret of world.stripe.secrets.all(user.accountId)) secret.payload = 'revoked';

    const res = await call('/api/oauth/userinfo', user);

    expect(res.status).toBe(401);
    expect((await problemOf(res)).code).toBe('OAUTH_PROVIDER_REJECTED');
  });

  test('an access token the provider refuses is renewed once with the stored refresh token', async () => {
    const user = newDashboardUser();
    await fetch(await signIn(user), { redirect: 'manual' });
    const access = world.stripe.secrets.all(user.accountId).find((s) => s.name === 'access_token')!;
    access.payload = 'expired';

    const res = await call('/api/oauth/userinfo', user);

    expect(res.status).toBe(200);
    const renewed = world.stripe.secrets.all(user.accountId).find((s) => s.name === 'access_token')!;
    expect(renewed.payload).not.toBe('expired');
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
