import { Writable } from 'node:stream';
import { devDashboardRoutes } from '../../src/dev/dashboard-page';
import { signStripePayload } from '../../src/dev/stripe-event-builder';
import { createLogger } from '../../src/logger';
import { createApp } from '../../src/web/app';
import { withWebhookFastPath } from '../../src/web/fast-path';
import { startTestApp, type TestApp } from '../support/app';
import { startRedis, type TestRedis } from '../support/redis';
import { fixtureEvent, WEBHOOK_SECRET } from './webhooks-support';

type Line = Record<string, unknown> & { msg: string };

/** The web as main.ts builds it, logging through hooklane's own logger into `lines`. */
async function startLoggedServer(redisUrl: string, lines: Line[], env: Record<string, string> = {}): Promise<TestApp> {
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const text of chunk.toString().split('\n')) if (text) lines.push(JSON.parse(text) as Line);
      done();
    },
  });
  return startTestApp(
    redisUrl,
    { STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET, STRIPE_APP_SECRET: 'absec_logs_test_0123456789', ADMIN_TOKEN, ...env },
    { listener: (deps) => withWebhookFastPath(deps, createApp({ ...deps, devRoutes: devDashboardRoutes(deps.config) })), logger: createLogger({ level: 'info', name: 'web' }, sink) },
  );
}

const CONNECTED = 'acct_1LogsTest000000';
const ADMIN_TOKEN = 'request-logs-admin-token-0123456789';
// Documentation addresses (RFC 5737): only ever written into a header, never connected to.
const CLIENT = '203.0.113.7';
const FORGED = '198.51.100.9';

function deliver(url: string, path: string, requestId: string, signature?: string, extraHeaders: Record<string, string> = {}) {
  const { event, payload } = fixtureEvent('payment_intent.succeeded', { account: CONNECTED });
  const headers = {
    'content-type': 'application/json',
    'x-request-id': requestId,
    'stripe-signature': signature ?? signStripePayload(payload, WEBHOOK_SECRET),
    ...extraHeaders,
  };
  return { event, sent: fetch(`${url}${path}`, { method: 'POST', headers, body: payload }) };
}

describe('request log lines carry their ids (the web keeps no async log context)', () => {
  let redis: TestRedis;
  let app: TestApp;
  let lines: Line[];
  const linesOf = (requestId: string) => lines.filter((line) => line.requestId === requestId);

  beforeAll(async () => {
    redis = await startRedis({ appendOnly: false });
  });
  beforeEach(async () => {
    lines = [];
    app = await startLoggedServer(redis.url, lines);
  });
  afterEach(async () => {
    await app.close();
  });
  afterAll(async () => {
    await redis.destroy();
  });

  it('a fast-path delivery logs one line with its request, event and account ids', async () => {
    const { event, sent } = deliver(app.url, '/webhooks/stripe', 'req-logs-fast');
    expect((await sent).status).toBe(200);

    expect(linesOf('req-logs-fast')).toEqual([
      expect.objectContaining({
        msg: 'stripe event accepted',
        level: 'info',
        eventId: event.id,
        accountId: CONNECTED,
        duplicate: false,
        req: expect.objectContaining({ method: 'POST', url: '/webhooks/stripe' }),
        res: { statusCode: 200 },
      }),
    ]);
  });

  it('a refused fast-path delivery logs why, with its request id', async () => {
    const { sent } = deliver(app.url, '/webhooks/stripe', 'req-logs-refused', 't=1,v1=00');
    expect((await sent).status).toBe(400);

    expect(linesOf('req-logs-refused')).toEqual([
      expect.objectContaining({ msg: 'stripe webhook refused', level: 'warn', code: 'SIGNATURE_INVALID', reason: expect.any(String), res: { statusCode: 400 } }),
    ]);
  });

  it('a refused delivery through the Express route is logged once, at warn, with why', async () => {
    const { sent } = deliver(app.url, '/webhooks/stripe?via=express', 'req-logs-refused-express', 't=1,v1=00');
    expect((await sent).status).toBe(400);

    expect(linesOf('req-logs-refused-express')).toEqual([
      expect.objectContaining({ msg: 'stripe webhook refused', level: 'warn', code: 'SIGNATURE_INVALID', reason: expect.any(String), res: { statusCode: 400 } }),
    ]);
  });

  it('any other rejected request is logged once, at warn, with its code', async () => {
    const res = await fetch(`${app.url}/api/no-such-route`, { headers: { 'x-request-id': 'req-logs-404' } });
    expect(res.status).toBe(404);

    expect(linesOf('req-logs-404')).toEqual([expect.objectContaining({ level: 'warn', code: 'NOT_FOUND', res: { statusCode: 404 } })]);
  });

  it("the dev dashboard's signature calls (one per click) stay out of the info log", async () => {
    const res = await fetch(`${app.url}/dev/dashboard/signature?userId=usr_1&accountId=acct_1`, { headers: { 'x-request-id': 'req-logs-sig' } });
    expect(res.status).toBe(200);

    expect(linesOf('req-logs-sig')).toEqual([]);
  });

  it('the dev dashboard names its icon, and the icon is there (no 404 per page load)', async () => {
    const page = await (await fetch(`${app.url}/dev/dashboard`)).text();
    const icon = /<link rel="icon" href="([^"]+)"/.exec(page)?.[1];
    expect(icon).toBe('/dev/dashboard/favicon.svg');
    const res = await fetch(`${app.url}${icon}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^image\/svg\+xml/);
  });

  it('through the Express route, one line carries the event and account, like the fast path', async () => {
    const { event, sent } = deliver(app.url, '/webhooks/stripe?via=express', 'req-logs-express');
    expect((await sent).status).toBe(200);

    expect(linesOf('req-logs-express')).toEqual([
      expect.objectContaining({ msg: 'stripe event accepted', level: 'info', eventId: event.id, accountId: CONNECTED, duplicate: false, res: { statusCode: 200 } }),
    ]);
  });

  describe('the client IP (req.ip, through TRUST_PROXY hops of X-Forwarded-For)', () => {
    // What the ALB sends: whatever the client claimed, then the address the ALB saw.
    const viaProxy = { 'x-forwarded-for': `${FORGED}, ${CLIENT}` };

    it('is on a fast-path delivery line, so deliveries can be traced to their sender', async () => {
      const { sent } = deliver(app.url, '/webhooks/stripe', 'req-ip-fast', undefined, viaProxy);
      expect((await sent).status).toBe(200);
      expect(linesOf('req-ip-fast')).toEqual([expect.objectContaining({ msg: 'stripe event accepted', clientIp: CLIENT })]);
    });

    it('is on a refused delivery\'s lines', async () => {
      const { sent } = deliver(app.url, '/webhooks/stripe', 'req-ip-refused', 't=1,v1=00', viaProxy);
      expect((await sent).status).toBe(400);
      expect(linesOf('req-ip-refused')).toEqual([expect.objectContaining({ msg: 'stripe webhook refused', clientIp: CLIENT })]);
    });

    it('is on every line of a failed admin sign-in, so guessing can be traced', async () => {
      const res = await fetch(`${app.url}/api/admin/session`, { headers: { authorization: 'Bearer wrong-token-0123456789', 'x-request-id': 'req-ip-admin-401', ...viaProxy } });
      expect(res.status).toBe(401);
      const logged = linesOf('req-ip-admin-401');
      expect(logged).toEqual([expect.objectContaining({ msg: 'request rejected', clientIp: CLIENT })]);
    });

    it('is on an admin audit line and its request line', async () => {
      const job = await app.deps.queues.jobs.add('job', {});
      const res = await fetch(`${app.url}/api/admin/queues/jobs/jobs/${job.id}`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'x-request-id': 'req-ip-admin-action', ...viaProxy },
      });
      expect(res.status).toBe(200);
      const logged = linesOf('req-ip-admin-action');
      expect(logged.map((line) => line.msg)).toEqual(['admin action', 'request completed']);
      for (const line of logged) expect(line.clientIp).toBe(CLIENT);
    });

    it('with TRUST_PROXY=0, is the socket\'s address whatever X-Forwarded-For claims', async () => {
      await app.close();
      app = await startLoggedServer(redis.url, lines, { TRUST_PROXY: '0' });
      const { sent } = deliver(app.url, '/webhooks/stripe', 'req-ip-untrusted', undefined, viaProxy);
      expect((await sent).status).toBe(200);
      const res = await fetch(`${app.url}/api/admin/session`, { headers: { 'x-request-id': 'req-ip-untrusted-admin', ...viaProxy } });
      expect(res.status).toBe(401);
      for (const line of [...linesOf('req-ip-untrusted'), ...linesOf('req-ip-untrusted-admin')]) expect(line.clientIp).toBe('127.0.0.1');
      expect(linesOf('req-ip-untrusted-admin')).toHaveLength(1);
    });
  });
});
