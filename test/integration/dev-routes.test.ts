import { randomUUID } from 'node:crypto';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startWeb, type WebProcess } from '../support/processes';
import { startRedis, type TestRedis } from '../support/redis';

/**
 * /dev signs Stripe App calls with the app secret (a signing oracle). It must exist only under `npm start`,
 * never because NODE_ENV was left unset, and never for a request that came through a proxy.
 */
const APP_SECRET = 'absec_devroutestest';
let redis: TestRedis;
let web: WebProcess | undefined;
let proxy: Server | undefined;

beforeAll(async () => {
  redis = await startRedis({ appendOnly: false });
});
afterAll(async () => {
  await redis.destroy();
});
afterEach(async () => {
  await web?.kill('SIGKILL');
  web = undefined;
  if (proxy) await new Promise<void>((resolve) => proxy!.close(() => resolve()));
  proxy = undefined;
});

/** dist/web/main.js as a host would start it: NODE_ENV not set at all, unless `env` says otherwise. */
function startWebWith(env: NodeJS.ProcessEnv): Promise<WebProcess> {
  return startWeb({ NODE_ENV: undefined, REDIS_URL: redis.url, QUEUE_PREFIX: `test-${randomUUID()}`, STRIPE_APP_SECRET: APP_SECRET, ...env });
}

/** A reverse proxy on the same host (nginx, a sidecar): it reaches the app from loopback and says who the client was. */
async function startLoopbackProxy(target: string): Promise<string> {
  const upstream = new URL(target);
  proxy = createServer((req, res) => {
    const forwarded = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        path: req.url,
        method: req.method,
        headers: { ...req.headers, 'x-forwarded-for': '203.0.113.7', 'x-forwarded-proto': 'https' },
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forwarded.on('error', () => res.writeHead(502).end());
    req.pipe(forwarded);
  });
  await new Promise<void>((resolve) => proxy!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
}

const SIGN = '/dev/dashboard/signature?userId=usr_victim&accountId=acct_victim';

describe('the dev routes (/dev, a signer for Stripe App calls)', () => {
  test('with NODE_ENV unset, a client behind a reverse proxy on the same host cannot get a signature', async () => {
    web = await startWebWith({});
    const front = await startLoopbackProxy(web.url);

    const page = await fetch(`${front}/dev/dashboard`);
    const signing = await fetch(`${front}${SIGN}`);

    expect(page.status).toBe(404);
    expect(signing.status).toBe(404);
    expect(await signing.text()).not.toContain('"signature"');
  });

  test('with NODE_ENV unset, they are not mounted even for a loopback client', async () => {
    web = await startWebWith({});

    expect((await fetch(`${web.url}${SIGN}`)).status).toBe(404);
  });

  test('DEV_ROUTES=true (what npm start sets) serves the page and signer to a loopback client', async () => {
    web = await startWebWith({ DEV_ROUTES: 'true' });

    const page = await fetch(`${web.url}/dev/dashboard`);
    const signing = await fetch(`${web.url}${SIGN}`);

    expect(page.status).toBe(200);
    expect(signing.status).toBe(200);
    expect(((await signing.json()) as { signature: string }).signature).toMatch(/^t=\d+,v1=/);
  });

  test('even with DEV_ROUTES=true, a request that came through a proxy (X-Forwarded-For) is refused', async () => {
    web = await startWebWith({ DEV_ROUTES: 'true' });
    const front = await startLoopbackProxy(web.url);

    const signing = await fetch(`${front}${SIGN}`);

    expect(signing.status).toBe(404);
    expect(await signing.text()).not.toContain('"signature"');
  });
});
