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
async function startLoggedServer(redisUrl: string, lines: Line[]): Promise<TestApp> {
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const text of chunk.toString().split('\n')) if (text) lines.push(JSON.parse(text) as Line);
      done();
    },
  });
  return startTestApp(
    redisUrl,
    { STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET, STRIPE_APP_SECRET: 'absec_logs_test_0123456789' },
    { listener: (deps) => withWebhookFastPath(deps, createApp({ ...deps, devRoutes: devDashboardRoutes(deps.config) })), logger: createLogger({ level: 'info', name: 'web' }, sink) },
  );
}

const CONNECTED = 'acct_1LogsTest000000';

function deliver(url: string, path: string, requestId: string, signature?: string) {
  const { event, payload } = fixtureEvent('payment_intent.succeeded', { account: CONNECTED });
  const headers = { 'content-type': 'application/json', 'x-request-id': requestId, 'stripe-signature': signature ?? signStripePayload(payload, WEBHOOK_SECRET) };
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
});
