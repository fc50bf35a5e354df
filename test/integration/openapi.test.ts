import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Express } from 'express';
import { signStripePayload } from '../../src/dev/stripe-event-builder';
import { createApp } from '../../src/web/app';
import { listRoutes } from '../../src/web/route-table';
import { startTestApp, type TestApp } from '../support/app';
import { documentedOperations, openapiPath, openapiViolations } from '../support/openapi';
import { startRedis, type TestRedis } from '../support/redis';
import { fixtureEvent, WEBHOOK_SECRET } from './webhooks-support';

const ADMIN_TOKEN = 'openapi-test-admin-token-0123456789';
// Every optional part of the app configured, so that every route exists (the Stripe App's only when set).
const ENV = {
  ADMIN_TOKEN,
  STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
  STRIPE_SECRET_KEY: 'sk_test_openapi',
  STRIPE_APP_SECRET: 'absec_openapi_test',
  STRIPE_API_BASE: 'http://127.0.0.1:9',
  STRIPE_REDIRECT_URL: 'http://localhost:3000/dev/dashboard',
  OAUTH_AUTHORIZATION_ENDPOINT: 'http://127.0.0.1:9/authorize',
  OAUTH_TOKEN_ENDPOINT: 'http://127.0.0.1:9/token',
  OAUTH_USERINFO_ENDPOINT: 'http://127.0.0.1:9/userinfo',
  OAUTH_CLIENT_ID: 'hooklane-openapi',
  OAUTH_CLIENT_SECRET: 'openapi-client-secret',
  OAUTH_REDIRECT_URI: 'http://localhost:3000/api/oauth/authorize',
};

describe('the OpenAPI document (src/web/openapi.json)', () => {
  let redis: TestRedis;
  let app: TestApp;
  let express: Express;
  beforeAll(async () => {
    redis = await startRedis({ appendOnly: false });
    app = await startTestApp(redis.url, ENV, { listener: (deps) => (express = createApp(deps)) });
  });
  afterAll(async () => {
    await app?.close();
    await redis?.destroy();
  });

  test('describes every route the app has, and no route it does not have', () => {
    const routes = listRoutes(express).map((r) => `${r.method} ${openapiPath(r.path)}`);
    const documented = documentedOperations();
    expect({ undocumented: routes.filter((r) => !documented.includes(r)), stale: documented.filter((d) => !routes.includes(d)) }).toEqual({
      undocumented: [],
      stale: [],
    });
  });

  test('is served at /api/openapi.json as it is in the repo', async () => {
    const res = await fetch(`${app.url}/api/openapi.json`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'src', 'web', 'openapi.json'), 'utf8')));
  });

  test('the answers of every kind of route, successes and problems, validate against it', async () => {
    const violations: string[] = [];
    const call = async (method: string, url: string, init: RequestInit = {}) => {
      const res = await fetch(`${app.url}${url}`, { method, ...init });
      violations.push(...(await openapiViolations(method, url, res)));
      return res;
    };
    const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
    const json = { 'content-type': 'application/json' };

    await call('GET', '/healthz');
    await call('GET', '/readyz');
    await call('GET', '/api/openapi.json');
    await call('POST', '/healthz');

    const created = await call('POST', '/api/jobs', { headers: json, body: '{"steps":1,"stepMs":0}' });
    const { jobId } = (await created.json()) as { jobId: string };
    await call('GET', `/api/jobs/${jobId}`);
    await call('GET', '/api/jobs/no-such-job');
    await call('GET', '/api/jobs');
    await call('POST', '/api/jobs', { headers: { 'content-type': 'text/plain' }, body: 'x' });
    await call('POST', '/api/jobs', { headers: json, body: '{"steps":' });

    const { event, payload } = fixtureEvent('payment_intent.succeeded', { account: 'acct_1OpenApi' });
    await call('POST', '/webhooks/stripe', { headers: { ...json, 'stripe-signature': signStripePayload(payload, WEBHOOK_SECRET) }, body: payload });
    await call('POST', '/webhooks/stripe', { headers: { ...json, 'stripe-signature': 't=1,v1=00' }, body: payload });
    await call('GET', '/webhooks/stripe');
    expect(await app.moveIntake()).toBe(1);
    await call('GET', '/api/events?limit=10', { headers: admin });
    await call('GET', `/api/events/${event.id}`, { headers: admin });
    await call('POST', `/api/events/${event.id}/replay`, { headers: admin });
    await call('GET', '/api/events/evt_no_such_event', { headers: admin });
    await call('GET', '/api/events');

    await call('GET', '/api/admin/session', { headers: admin });
    await call('GET', '/api/admin/overview', { headers: admin });
    await call('GET', '/api/admin/queues/jobs/jobs?state=waiting', { headers: admin });
    await call('GET', `/api/admin/queues/jobs/jobs/${jobId}`, { headers: admin });
    await call('POST', '/api/admin/queues/jobs/retry-failed', { headers: admin });
    await call('GET', '/api/admin/queues/no-such-queue/jobs', { headers: admin });

    await call('GET', '/api/app/payments/pi_1OpenApi/status');
    await call('GET', '/api/oauth/userinfo');
    await call('GET', '/api/oauth/authorize?state=unknown&code=x');

    expect(violations).toEqual([]);
  });
});
