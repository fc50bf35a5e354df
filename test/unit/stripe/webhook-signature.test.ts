import { AppError } from '../../../src/errors';
import { buildStripeEvent, signStripePayload } from '../../../src/dev/stripe-event-builder';
import { verifyStripeSignature } from '../../../src/stripe/webhook-signature';

const SECRET = 'whsec_current_secret_for_tests';
const OLD_SECRET = 'whsec_previous_secret_for_tests';
const options = { secrets: [SECRET], toleranceSeconds: 300 };

function signed(secret = SECRET, timestamp?: number) {
  const payload = JSON.stringify(buildStripeEvent('payment_intent.succeeded'), null, 2);
  return { body: Buffer.from(payload), header: signStripePayload(payload, secret, timestamp) };
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof AppError) return err.code;
    throw err;
  }
  throw new Error('expected an AppError');
}

const typeOf = (delivery: ReturnType<typeof verifyStripeSignature>) =>
  delivery.kind === 'snapshot' ? delivery.event.type : delivery.notification.type;

describe('verifyStripeSignature', () => {
  it('when the signature is valid, returns the parsed event', () => {
    const { body, header } = signed();
    const delivery = verifyStripeSignature(body, header, options);
    if (delivery.kind !== 'snapshot') throw new Error('expected a snapshot event');
    const { event } = delivery;
    expect(event.type).toBe('payment_intent.succeeded');
    expect(event.id).toMatch(/^evt_/);
  });

  it('when one byte of the body changed, answers SIGNATURE_INVALID', () => {
    const { body, header } = signed();
    const tampered = Buffer.from(body.toString().replace('"amount": 1099', '"amount": 1098'));
    expect(tampered.equals(body)).toBe(false);
    expect(codeOf(() => verifyStripeSignature(tampered, header, options))).toBe('SIGNATURE_INVALID');
  });

  it('when signed with another secret, answers SIGNATURE_INVALID', () => {
    const { body, header } = signed('whsec_someone_else');
    expect(codeOf(() => verifyStripeSignature(body, header, options))).toBe('SIGNATURE_INVALID');
  });

  it('when the signature is older than the tolerance, answers SIGNATURE_EXPIRED', () => {
    const { body, header } = signed(SECRET, Math.floor(Date.now() / 1000) - 301);
    expect(codeOf(() => verifyStripeSignature(body, header, options))).toBe('SIGNATURE_EXPIRED');
  });

  it('when the signature is within the tolerance, accepts it', () => {
    const { body, header } = signed(SECRET, Math.floor(Date.now() / 1000) - 200);
    expect(typeOf(verifyStripeSignature(body, header, options))).toBe('payment_intent.succeeded');
  });

  it('when the header is missing or empty, answers SIGNATURE_MISSING', () => {
    const { body } = signed();
    expect(codeOf(() => verifyStripeSignature(body, undefined, options))).toBe('SIGNATURE_MISSING');
    expect(codeOf(() => verifyStripeSignature(body, '', options))).toBe('SIGNATURE_MISSING');
  });

  it.each([['garbage'], ['v1=abc'], [`t=${Math.floor(Date.now() / 1000)}`], [`t=${Math.floor(Date.now() / 1000)},v0=abc`]])(
    'when the header is malformed (%s), answers SIGNATURE_MALFORMED',
    (header) => {
      const { body } = signed();
      expect(codeOf(() => verifyStripeSignature(body, header, options))).toBe('SIGNATURE_MALFORMED');
    },
  );

  it('when the header has several v1 entries and one matches, accepts it', () => {
    const { body, header } = signed();
    const [t, v1] = header.split(',');
    const several = `${t},v1=${'0'.repeat(64)},${v1},v1=${'f'.repeat(64)},v0=${'a'.repeat(64)}`;
    expect(typeOf(verifyStripeSignature(body, several, options))).toBe('payment_intent.succeeded');
  });

  it('when several secrets are configured (rotation), accepts a signature under any of them', () => {
    const rotating = { secrets: [SECRET, OLD_SECRET], toleranceSeconds: 300 };
    for (const secret of [SECRET, OLD_SECRET]) {
      const { body, header } = signed(secret);
      expect(typeOf(verifyStripeSignature(body, header, rotating))).toBe('payment_intent.succeeded');
    }
    const { body, header } = signed(OLD_SECRET);
    expect(codeOf(() => verifyStripeSignature(body, header, options))).toBe('SIGNATURE_INVALID');
  });

  it('when Stripe signs with both old and new secret during a roll, accepts it with only the new one configured', () => {
    const payload = JSON.stringify(buildStripeEvent('customer.created'));
    const timestamp = Math.floor(Date.now() / 1000);
    const withOld = signStripePayload(payload, OLD_SECRET, timestamp);
    const withNew = signStripePayload(payload, SECRET, timestamp);
    const header = `${withOld},${withNew.split(',')[1]}`;
    expect(typeOf(verifyStripeSignature(Buffer.from(payload), header, options))).toBe('customer.created');
  });

  it('when an expired delivery is checked against several secrets, still answers SIGNATURE_EXPIRED', () => {
    const { body, header } = signed(OLD_SECRET, Math.floor(Date.now() / 1000) - 3600);
    const rotating = { secrets: [SECRET, OLD_SECRET], toleranceSeconds: 300 };
    expect(codeOf(() => verifyStripeSignature(body, header, rotating))).toBe('SIGNATURE_EXPIRED');
  });

  it('when the signed body is not JSON, answers WEBHOOK_EVENT_INVALID', () => {
    const header = signStripePayload('not json', SECRET);
    expect(codeOf(() => verifyStripeSignature(Buffer.from('not json'), header, options))).toBe('WEBHOOK_EVENT_INVALID');
  });

  it('when the body is empty, answers WEBHOOK_EVENT_INVALID', () => {
    const header = signStripePayload('', SECRET);
    expect(codeOf(() => verifyStripeSignature(Buffer.alloc(0), header, options))).toBe('WEBHOOK_EVENT_INVALID');
  });

  it('a thin event notification signed by a thin destination\'s secret (the second one) is verified and returned as thin', () => {
    const notification = { id: 'evt_test_65thin', object: 'v2.core.event', type: 'v1.customer.created', created: '2026-12-01T00:00:00.000Z', livemode: false, related_object: { id: 'cus_1', type: 'customer', url: '/v1/customers/cus_1' }, snapshot_event: 'evt_snap1' };
    const payload = JSON.stringify(notification);
    const thinSecret = 'whsec_thindestination';
    const delivery = verifyStripeSignature(Buffer.from(payload), signStripePayload(payload, thinSecret), { ...options, secrets: [SECRET, thinSecret] });
    expect(delivery).toEqual({ kind: 'thin', notification });
  });

  it('a thin notification under a wrong secret is SIGNATURE_INVALID, like a snapshot event', () => {
    const payload = JSON.stringify({ id: 'evt_test_1', object: 'v2.core.event', type: 'v1.customer.created', created: '2026-12-01T00:00:00.000Z' });
    expect(codeOf(() => verifyStripeSignature(Buffer.from(payload), signStripePayload(payload, 'whsec_other'), options))).toBe('SIGNATURE_INVALID');
  });
});
