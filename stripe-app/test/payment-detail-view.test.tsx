import { Banner, Button, ContextView, ListItem, PropertyListItem } from '@stripe/ui-extension-sdk/ui';
import PaymentDetailView from '../src/views/PaymentDetailView';
import {
  demoUser, installFakeBackend, json, noContent, notConnected, problem, type FakeBackend,
} from './support/fake-backend';
import { componentsIn, textOf } from './support/remote-tree';
import { stubSignatures } from './support/signature';
import { dashboardContext, renderView, unmountViews, until } from './support/view-harness';

jest.mock('@stripe/ui-extension-sdk/utils', () => ({
  ...jest.requireActual('@stripe/ui-extension-sdk/utils'),
  fetchStripeSignature: jest.fn(),
}));

// The payment the Dashboard page shows (getMockContextProps' objectContext in the harness).
const PAYMENT = 'pi_3MtwBwLkdIwHu7ix28a3tqPa';
const USERINFO = 'GET /api/oauth/userinfo';
const STATUS = `GET /api/app/payments/${PAYMENT}/status`;

const paymentView = () => renderView(<PaymentDetailView {...dashboardContext()} />);
type Wrapper = ReturnType<typeof paymentView>['wrapper'];

const connectedAs = (wrapper: Wrapper) => wrapper.find(PropertyListItem, { label: 'Connected as' })?.prop('value');

// The status badge sits in the row's `value` prop, a remote fragment.
function badgeOf(row: { prop: (key: 'value') => unknown } | undefined): [string, unknown] | undefined {
  const badge = componentsIn(row?.prop('value')).find((node) => node.type === 'Badge');
  return badge && [textOf(badge), badge.props?.type];
}

const events = [
  { id: 'evt_2', type: 'payment_intent.succeeded', status: 'failed', attempts: 3, lastError: 'ECONNRESET from ledger', created: 1_700_000_100, receivedAt: '2023-11-14T22:15:01.000Z' },
  { id: 'evt_1', type: 'payment_intent.created', status: 'succeeded', attempts: 1, lastError: null, created: 1_700_000_000, receivedAt: 1_700_000_001_000 },
];

afterEach(unmountViews);

describe('PaymentDetailView', () => {
  it('signed in: shows the user and how hooklane processed each of this payment\'s events', async () => {
    stubSignatures();
    installFakeBackend({ [USERINFO]: () => json(200, demoUser), [STATUS]: () => json(200, { paymentIntentId: PAYMENT, events }) });
    const { wrapper, update } = paymentView();

    await until(update, () => wrapper.findAll(ListItem).length === 2, 'two event rows');

    expect(connectedAs(wrapper)).toBe('Demo User');
    const [failed, succeeded] = wrapper.findAll(ListItem);
    expect(failed).toHaveProps({ title: 'payment_intent.succeeded' });
    expect(String(failed?.prop('secondaryTitle'))).toBe('Received 2023-11-14 22:15:01 UTC · 3 attempts · ECONNRESET from ledger');
    expect(succeeded).toHaveProps({ title: 'payment_intent.created' });
    expect([failed, succeeded].map(badgeOf)).toEqual([['failed', 'negative'], ['succeeded', 'positive']]);
  });

  it('when the event index has nothing for this payment (404), says no events arrived yet', async () => {
    stubSignatures();
    installFakeBackend({
      [USERINFO]: () => json(200, demoUser),
      [STATUS]: () => problem(404, 'Not Found', `No events are recorded for ${PAYMENT}.`, 'PAYMENT_NOT_FOUND'),
    });
    const { wrapper, update } = paymentView();

    await until(update, () => wrapper.text.includes('has not received any events'), 'the no-events note');

    expect(wrapper.find(Banner)).toBeNull();
    expect(wrapper.findAll(ListItem)).toHaveLength(0);
  });

  it('when the status lookup fails, keeps the user and offers Try again', async () => {
    stubSignatures();
    const backend = installFakeBackend({
      [USERINFO]: () => json(200, demoUser),
      [STATUS]: () => problem(503, 'Service Unavailable', 'Redis is unavailable', 'REDIS_UNAVAILABLE'),
    });
    const { wrapper, update } = paymentView();
    await until(update, () => wrapper.find(Banner) !== null, 'an error banner');
    expect(connectedAs(wrapper)).toBe('Demo User');
    expect(wrapper.find(Banner)).toHaveProps({ type: 'caution', title: 'hooklane is unavailable' });

    backend.on(STATUS, () => json(200, { paymentIntentId: PAYMENT, events }));
    const [retry] = componentsIn(wrapper.find(Banner)?.prop('actions'));
    wrapper.act(() => (retry?.props?.onPress as () => void)());
    await until(update, () => wrapper.findAll(ListItem).length === 2, 'two event rows');

    expect(backend.requestsTo(STATUS)).toHaveLength(2);
  });

  it('on a payment without a PaymentIntent (a legacy charge), says so instead of asking', async () => {
    stubSignatures();
    const backend = installFakeBackend({ [USERINFO]: () => json(200, demoUser) });
    const { wrapper, update } = renderView(
      <PaymentDetailView {...dashboardContext({ objectContext: { id: 'ch_3MtwBwLkdIwHu7ix0snN0B15', object: 'charge' } })} />,
    );

    await until(update, () => wrapper.text.includes('is not one'), 'the PaymentIntent note');

    expect(wrapper).toContainText('ch_3MtwBwLkdIwHu7ix0snN0B15');
    expect(backend.requests.map((r) => r.url.pathname)).toEqual(['/api/oauth/userinfo']);
  });

  it('signed out: asks for sign-in and does not look the payment up', async () => {
    stubSignatures();
    const backend = installFakeBackend({ [USERINFO]: notConnected, [STATUS]: () => json(200, { paymentIntentId: PAYMENT, events }) });
    const { wrapper, update } = paymentView();

    await until(update, () => wrapper.findAll(Button).some((b) => b.text === 'Sign in' && b.prop('href')), 'a Sign in link');

    expect(backend.requestsTo(STATUS)).toHaveLength(0);
    expect(wrapper.text).not.toContain('Webhook processing');
  });

  it('every call to the back-end carries a fresh Dashboard signature, both Stripe ids and the JSON content type', async () => {
    const { issued } = stubSignatures();
    const backend = installFakeBackend({
      [USERINFO]: () => json(200, demoUser),
      [STATUS]: () => json(200, { paymentIntentId: PAYMENT, events }),
      'GET /api/oauth/logout': () => noContent(),
    });
    const { wrapper, update } = paymentView();
    await until(update, () => wrapper.findAll(ListItem).length === 2, 'two event rows');
    wrapper.findAll(Button).find((b) => b.text === 'Refresh')?.trigger('onPress');
    await until(update, () => backend.requestsTo(STATUS).length === 2, 'a refreshed status');
    await signOut(wrapper, update, backend);

    expect(backend.requests.map((r) => `${r.method} ${r.url.pathname}`))
      .toEqual([USERINFO, STATUS, STATUS, 'GET /api/oauth/logout']);
    for (const request of backend.requests) {
      expect(request.headers.get('stripe-user-id')).toBe('usr_1234');
      expect(request.headers.get('stripe-account-id')).toBe('acct_1234');
      expect(request.headers.get('content-type')).toBe('application/json');
    }
    const sent = backend.requests.map((r) => r.headers.get('stripe-signature'));
    expect(new Set(sent).size).toBe(sent.length);
    expect(sent.every((signature) => signature !== null && issued.includes(signature))).toBe(true);
  });
});

async function signOut(wrapper: Wrapper, update: () => Promise<void>, backend: FakeBackend): Promise<void> {
  const [link] = componentsIn(wrapper.find(ContextView)?.prop('footerContent'));
  wrapper.act(() => (link?.props?.onPress as () => void)());
  await until(update, () => backend.requestsTo('GET /api/oauth/logout').length === 1, 'the logout call');
}
