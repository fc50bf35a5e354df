import { Banner, Button, ContextView, PropertyListItem, Spinner } from '@stripe/ui-extension-sdk/ui';
import DrawerView from '../src/views/DrawerView';
import { SIGN_IN_POLL_MS, SIGN_IN_URL_RENEW_MS } from '../src/connection/use-connection';
import {
  BACKEND_URL, demoUser, installFakeBackend, json, networkError, noContent, notConnected, problem,
} from './support/fake-backend';
import { componentsIn, textOf } from './support/remote-tree';
import { stubSignatures } from './support/signature';
import { dashboardContext, renderView, unmountViews, until } from './support/view-harness';

jest.mock('@stripe/ui-extension-sdk/utils', () => ({
  ...jest.requireActual('@stripe/ui-extension-sdk/utils'),
  fetchStripeSignature: jest.fn(),
}));

const USERINFO = 'GET /api/oauth/userinfo';
const drawer = () => renderView(<DrawerView {...dashboardContext({ viewportID: 'stripe.dashboard.drawer.default' })} />);
type Wrapper = ReturnType<typeof drawer>['wrapper'];

const signInButton = (wrapper: Wrapper) => wrapper.findAll(Button).find((node) => node.text === 'Sign in') ?? null;
const footerLinks = (wrapper: Wrapper) => componentsIn(wrapper.find(ContextView)?.prop('footerContent'))
  .filter((node) => node.type === 'Link');

function stateOf(href: unknown): unknown {
  const url = new URL(String(href));
  expect(`${url.origin}${url.pathname}`).toBe(`${BACKEND_URL}/api/oauth/login`);
  return JSON.parse(url.searchParams.get('state') ?? '');
}

const connectedAs = (wrapper: Wrapper) => wrapper.find(PropertyListItem, { label: 'Connected as' })?.prop('value');

afterEach(async () => {
  await unmountViews();
  jest.useRealTimers();
});

describe('DrawerView', () => {
  it('while asking who is connected, shows a spinner', () => {
    stubSignatures();
    installFakeBackend({ [USERINFO]: () => json(200, demoUser) });
    const { wrapper } = drawer();
    expect(wrapper).toContainComponent(Spinner);
    expect(wrapper).toContainText('Checking your hooklane connection');
  });

  describe('signed out', () => {
    it('offers Sign in, opening the login page in a new tab with the signed Dashboard identity', async () => {
      const { issued } = stubSignatures();
      installFakeBackend({ [USERINFO]: notConnected });
      const { wrapper, update } = drawer();

      await until(update, () => Boolean(signInButton(wrapper)?.prop('href')), 'a Sign in link');

      const button = signInButton(wrapper);
      expect(button).toHaveProps({ target: '_blank', type: 'primary' });
      expect(stateOf(button?.prop('href'))).toEqual({ userId: 'usr_1234', accountId: 'acct_1234', signature: issued.at(-1) });
      expect(footerLinks(wrapper)).toHaveLength(0);
    });

    it('when an earlier connection stopped working (e.g. unverified email), says why above Sign in', async () => {
      stubSignatures();
      installFakeBackend({
        [USERINFO]: () => problem(401, 'The email address is not verified', 'The email address is not verified', 'OAUTH_EMAIL_NOT_VERIFIED'),
      });
      const { wrapper, update } = drawer();

      await until(update, () => Boolean(signInButton(wrapper)?.prop('href')), 'a Sign in link');

      expect(wrapper.find(Banner)).toHaveProps({ type: 'caution', title: 'Sign in again', description: 'The email address is not verified' });
    });

    it('when simply not connected, shows no warning', async () => {
      stubSignatures();
      installFakeBackend({ [USERINFO]: notConnected });
      const { wrapper, update } = drawer();
      await until(update, () => Boolean(signInButton(wrapper)?.prop('href')), 'a Sign in link');
      expect(wrapper.find(Banner)).toBeNull();
    });

    it('renews the signed sign-in link before the back-end would find its signature too old', async () => {
      jest.useFakeTimers({ doNotFake: ['setTimeout', 'nextTick', 'setImmediate', 'queueMicrotask'] });
      const { issued } = stubSignatures();
      installFakeBackend({ [USERINFO]: notConnected });
      const { wrapper, update } = drawer();
      await until(update, () => Boolean(signInButton(wrapper)?.prop('href')), 'a Sign in link');
      const first = signInButton(wrapper)?.prop('href');

      jest.advanceTimersByTime(SIGN_IN_URL_RENEW_MS);
      await until(update, () => signInButton(wrapper)?.prop('href') !== first, 'a renewed Sign in link');

      expect(stateOf(signInButton(wrapper)?.prop('href'))).toMatchObject({ signature: issued.at(-1) });
    });

    it('after Sign in is pressed, watches for the connection and shows the user once it exists', async () => {
      jest.useFakeTimers({ doNotFake: ['setTimeout', 'nextTick', 'setImmediate', 'queueMicrotask'] });
      stubSignatures();
      const backend = installFakeBackend({ [USERINFO]: notConnected });
      const { wrapper, update } = drawer();
      await until(update, () => Boolean(signInButton(wrapper)?.prop('href')), 'a Sign in link');

      signInButton(wrapper)?.trigger('onPress');
      await until(update, () => wrapper.text.includes('Finish signing in in the new tab'), 'the waiting hint');
      await update(); // lets the view start watching (its effects run after the render)
      jest.advanceTimersByTime(SIGN_IN_POLL_MS);
      await until(update, () => backend.requestsTo(USERINFO).length === 2, 'a second userinfo call');
      expect(wrapper).toContainComponent(Button, { type: 'primary' }); // still not connected

      backend.on(USERINFO, () => json(200, demoUser)); // the user finished in the other tab
      jest.advanceTimersByTime(SIGN_IN_POLL_MS);
      await until(update, () => connectedAs(wrapper) === 'Demo User', 'the connected user');

      expect(signInButton(wrapper)).toBeNull();
    });
  });

  describe('signed in', () => {
    it('shows the connected user and a Sign out link in the footer', async () => {
      stubSignatures();
      installFakeBackend({ [USERINFO]: () => json(200, demoUser) });
      const { wrapper, update } = drawer();

      await until(update, () => connectedAs(wrapper) === 'Demo User', 'the connected user');

      expect(wrapper).toContainComponent(PropertyListItem, { label: 'Connected as', value: 'Demo User' });
      expect(wrapper).toContainComponent(PropertyListItem, { label: 'Email', value: 'demo@example.com' });
      expect(footerLinks(wrapper).map(textOf)).toEqual(['Sign out']);
      expect(signInButton(wrapper)).toBeNull();
    });

    it('Sign out calls the logout route and returns to the signed-out view', async () => {
      stubSignatures();
      const backend = installFakeBackend({ [USERINFO]: () => json(200, demoUser), 'GET /api/oauth/logout': () => noContent() });
      const { wrapper, update } = drawer();
      await until(update, () => footerLinks(wrapper).length === 1, 'a Sign out link');

      const [signOut] = footerLinks(wrapper);
      wrapper.act(() => (signOut?.props?.onPress as () => void)());
      await until(update, () => Boolean(signInButton(wrapper)?.prop('href')), 'the Sign in link');

      expect(backend.requestsTo('GET /api/oauth/logout')).toHaveLength(1);
      expect(connectedAs(wrapper)).toBeUndefined();
      expect(footerLinks(wrapper)).toHaveLength(0);
    });
  });

  describe('errors', () => {
    it('when the back-end refuses the signature (400), says so and names the secret to check', async () => {
      stubSignatures();
      installFakeBackend({ [USERINFO]: () => problem(400, 'Bad Request', 'Could not verify signature', 'STRIPE_APP_BAD_SIGNATURE') });
      const { wrapper, update } = drawer();

      await until(update, () => wrapper.find(Banner) !== null, 'an error banner');

      expect(wrapper.find(Banner)).toHaveProps({ type: 'critical', title: 'hooklane could not verify this request' });
      expect(String(wrapper.find(Banner)?.prop('description'))).toContain('STRIPE_APP_SECRET');
      expect(signInButton(wrapper)).toBeNull();
    });

    it('when the back-end fails (5xx), shows a retryable caution that recovers on Try again', async () => {
      stubSignatures();
      const backend = installFakeBackend({ [USERINFO]: () => problem(503, 'Service Unavailable', 'Redis is unavailable', 'REDIS_UNAVAILABLE') });
      const { wrapper, update } = drawer();
      await until(update, () => wrapper.find(Banner) !== null, 'an error banner');
      expect(wrapper.find(Banner)).toHaveProps({ type: 'caution', title: 'hooklane is unavailable' });
      expect(String(wrapper.find(Banner)?.prop('description'))).toContain('503: Redis is unavailable');

      backend.on(USERINFO, () => json(200, demoUser));
      const [retry] = componentsIn(wrapper.find(Banner)?.prop('actions'));
      expect(retry && textOf(retry)).toBe('Try again');
      wrapper.act(() => (retry?.props?.onPress as () => void)());
      await until(update, () => connectedAs(wrapper) === 'Demo User', 'the connected user');

      expect(wrapper.find(Banner)).toBeNull();
    });

    it('when the back-end cannot be reached, says where it looked', async () => {
      stubSignatures();
      installFakeBackend({ [USERINFO]: () => networkError() });
      const { wrapper, update } = drawer();

      await until(update, () => wrapper.find(Banner) !== null, 'an error banner');

      expect(wrapper.find(Banner)).toHaveProps({ type: 'caution', title: 'Cannot reach hooklane' });
      expect(String(wrapper.find(Banner)?.prop('description'))).toContain(BACKEND_URL);
    });

    it('when the manifest has no back-end URL, explains it and calls nothing', async () => {
      stubSignatures();
      const backend = installFakeBackend({ [USERINFO]: () => json(200, demoUser) });
      const { wrapper, update } = renderView(<DrawerView {...dashboardContext({ constants: {} })} />);

      await until(update, () => wrapper.find(Banner) !== null, 'an error banner');

      expect(wrapper.find(Banner)).toHaveProps({ type: 'critical', title: 'The app is not configured' });
      expect(String(wrapper.find(Banner)?.prop('description'))).toContain('HOOKLANE_BACKEND_URL');
      expect(backend.requests).toHaveLength(0);
    });
  });
});
