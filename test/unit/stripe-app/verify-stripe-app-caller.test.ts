import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import express from 'express';
import pino from 'pino';
import { problemHandler } from '../../../src/web/problem';
import { requestContext } from '../../../src/web/request-context';
import { signLikeStripe } from '../../../src/stripe/stripe-client';
import { stripeAppCaller, stripeAppCors, verifyStripeAppCaller } from '../../../src/stripe/verify-stripe-app-caller';

const SECRET = 'absec_unit_test_secret';
const USER = 'usr_1KzUser000000';
const ACCOUNT = 'acct_1KzAccount000000';

let server: Server;
let url: string;
let logLines: string[];

beforeEach(async () => {
  logLines = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logLines.push(chunk.toString());
      done();
    },
  });
  const logger = pino({ level: 'info' }, sink);
  const app = express();
  app.use(stripeAppCors());
  app.get('/signed', verifyStripeAppCaller(SECRET, logger), (_req, res) => {
    res.json(stripeAppCaller(res));
  });
  app.get('/logged', ...requestContext(logger), verifyStripeAppCaller(SECRET, logger), (req, res) => {
    req.log.info('handled');
    res.json({});
  });
  app.use(problemHandler(logger));
  server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/signed`;
});

afterEach(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const sign = (body: object, secret = SECRET, timestamp?: number) => signLikeStripe(JSON.stringify(body), secret, timestamp);
const ids = { 'stripe-user-id': USER, 'stripe-account-id': ACCOUNT };

async function problem(res: Response) {
  expect(res.headers.get('content-type')).toContain('application/problem+json');
  return (await res.json()) as { code: string; title: string; status: number };
}

describe('verifyStripeAppCaller', () => {
  test('when the signature covers the user and account ids, passes the caller on', async () => {
    const res = await fetch(url, { headers: { ...ids, 'stripe-signature': sign({ user_id: USER, account_id: ACCOUNT }) } });

    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ userId: USER, accountId: ACCOUNT });
  });

  test.each([
    ['no signature', { ...ids }],
    ['no user id', { 'stripe-account-id': ACCOUNT, 'stripe-signature': 't=1,v1=abc' }],
    ['no account id', { 'stripe-user-id': USER, 'stripe-signature': 't=1,v1=abc' }],
  ])('with %s, answers 400 Missing user identifiers', async (_name, headers) => {
    const res = await fetch(url, { headers });

    expect(res.status).toBe(400);
    expect(await problem(res)).toMatchObject({ status: 400, code: 'STRIPE_APP_MISSING_IDENTIFIERS', title: 'Missing user identifiers' });
  });

  test.each([
    ['signed with another secret', () => sign({ user_id: USER, account_id: ACCOUNT }, 'absec_other')],
    ['signed for another user', () => sign({ user_id: 'usr_other', account_id: ACCOUNT })],
    ['signed for another account', () => sign({ user_id: USER, account_id: 'acct_other' })],
    ['older than five minutes', () => sign({ user_id: USER, account_id: ACCOUNT }, SECRET, Math.floor(Date.now() / 1000) - 301)],
    ['not a signature at all', () => 'garbage'],
  ])('when %s, answers 400 Could not verify signature and logs why', async (_name, signature) => {
    const res = await fetch(url, { headers: { ...ids, 'stripe-signature': signature() } });

    expect(res.status).toBe(400);
    expect(await problem(res)).toMatchObject({ code: 'STRIPE_APP_BAD_SIGNATURE', title: 'Could not verify signature' });
    const rejection = logLines.map((l) => JSON.parse(l) as { msg: string; reason?: string }).find((l) => l.msg === 'stripe app signature rejected');
    expect(rejection?.reason).toEqual(expect.any(String));
  });

  test("after the check, the handler's lines and the request's closing line carry the account", async () => {
    const res = await fetch(url.replace('/signed', '/logged'), {
      headers: { ...ids, 'x-request-id': 'req-app-1', 'stripe-signature': sign({ user_id: USER, account_id: ACCOUNT }) },
    });

    expect(res.status).toBe(200);
    const lines = logLines.map((l) => JSON.parse(l) as { msg: string; requestId?: string; accountId?: string });
    expect(lines.map(({ msg, requestId, accountId }) => ({ msg, requestId, accountId }))).toEqual([
      { msg: 'handled', requestId: 'req-app-1', accountId: ACCOUNT },
      { msg: 'request completed', requestId: 'req-app-1', accountId: ACCOUNT },
    ]);
  });

  test('the signature itself never reaches the log', async () => {
    const signature = sign({ user_id: USER, account_id: 'acct_other' });
    await fetch(url, { headers: { ...ids, 'stripe-signature': signature } });

    expect(logLines.join('')).not.toContain(signature.split('v1=')[1]);
  });
});

describe('stripeAppCors', () => {
  test('answers a preflight with 204, any origin and the headers the Dashboard sends', async () => {
    const res = await fetch(url, {
      method: 'OPTIONS',
      headers: { origin: 'null', 'access-control-request-method': 'GET' },
    });

    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('access-control-allow-headers')).toBe(
      'stripe-signature, stripe-user-id, stripe-account-id, content-type',
    );
    expect(res.headers.get('access-control-allow-methods')).toContain('GET');
  });

  test('does not allow credentials: the routes rely on Stripe signatures, not cookies', async () => {
    const res = await fetch(url, { method: 'OPTIONS', headers: { origin: 'null' } });

    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
  });
});
