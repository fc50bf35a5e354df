import { buildStripeEvent, isKnownEventType, producibleEventTypes } from '../../../src/dev/stripe-event-builder';
import { EVENT_OBJECT_FIXTURE } from '../../../src/dev/stripe-event-catalog';

describe('building Stripe events from the fixtures', () => {
  it('builds every type whose object the fixtures have, with that object as data.object', () => {
    const types = producibleEventTypes();
    expect(types.length).toBe(Object.values(EVENT_OBJECT_FIXTURE).filter((r) => r !== null).length);
    for (const type of types) {
      const event = buildStripeEvent(type);
      const object = event.data.object as { object?: unknown; id?: unknown };
      expect({ type, hasObject: typeof object.object === 'string' }).toEqual({ type, hasObject: true });
      expect(event.type).toBe(type);
    }
  });

  it('gives each event a fresh evt_ id, the current time and the account when asked', () => {
    const a = buildStripeEvent('payment_intent.succeeded', { account: 'acct_1X' });
    const b = buildStripeEvent('payment_intent.succeeded');
    expect(a.id).toMatch(/^evt_[0-9a-f]{24}$/);
    expect(a.id).not.toBe(b.id);
    expect(a.account).toBe('acct_1X');
    expect(b.account).toBeUndefined();
    expect(Math.abs(a.created - Date.now() / 1000)).toBeLessThan(5);
    expect((a.data.object as { object: string }).object).toBe('payment_intent');
    expect(a.object).toBe('event');
  });

  it('refuses unknown types and types the fixtures cannot build', () => {
    expect(isKnownEventType('nope.created')).toBe(false);
    expect(() => buildStripeEvent('nope.created')).toThrow('not a Stripe event type');
    expect(() => buildStripeEvent('three_d_secure.authentication.succeeded')).toThrow('no example');
  });

  it('account.application.deauthorized without an account gets a plausible acct_ one, since its handler needs it', () => {
    const event = buildStripeEvent('account.application.deauthorized');
    expect(event.account).toMatch(/^acct_1[A-Za-z0-9]{14,}$/);
  });

  it('account.updated without an account is about the account in data.object', () => {
    const event = buildStripeEvent('account.updated');
    expect(event.account).toBe((event.data.object as { id: string }).id);
  });

  it('every account.* type gets an account; other types get none unless asked', () => {
    for (const type of producibleEventTypes()) {
      const { account } = buildStripeEvent(type);
      expect({ type, hasAccount: account !== undefined }).toEqual({ type, hasAccount: type.startsWith('account.') });
    }
  });
});
