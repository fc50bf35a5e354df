import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Express } from 'express';
import { signStripePayload } from '../../src/dev/stripe-event-builder';
import { createApp } from '../../src/web/app';
import { listRoutes } from '../../src/web/route-table';
import { apiKeyHeader, bearer } from '../support/api-keys';
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
  // Low limits, so that the test can reach each kind of 429 in a few calls (each key has its own count).
  API_KEY_RATE_LIMIT_PER_MINUTE: '10',
  ADMIN_AUTH_FAILURES_PER_MINUTE: '2',
  STRIPE_APP_SIGN_IN_RATE_LIMIT_PER_MINUTE: '2',
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
    const admin = bearer(ADMIN_TOKEN);
    const json = { 'content-type': 'application/json' };

    await call('GET', '/healthz');
    await call('GET', '/readyz');
    await call('GET', '/api/openapi.json');
    await call('POST', '/healthz');

    const key = await apiKeyHeader(app);
    const created = await call('POST', '/api/jobs', { headers: { ...key, ...json, 'idempotency-key': 'openapi-1' }, body: '{"steps":1,"stepMs":0}' });
    const { jobId } = (await created.json()) as { jobId: string };
    await call('POST', '/api/jobs', { headers: { ...key, ...json, 'idempotency-key': 'openapi-1' }, body: '{"steps":1,"stepMs":0}' });
    await call('GET', `/api/jobs/${jobId}`, { headers: key });
    await call('GET', '/api/jobs/no-such-job', { headers: key });
    await call('GET', '/api/jobs');
    await call('POST', '/api/jobs', { headers: { ...key, 'content-type': 'text/plain' }, body: 'x' });
    await call('POST', '/api/jobs', { headers: { ...key, ...json }, body: '{"steps":' });
    // Refused keys: none, the admin token (not an API key), a key without the scope.
    await call('POST', '/api/jobs', { headers: json, body: '{}' });
    await call('GET', `/api/jobs/${jobId}`, { headers: admin });
    await call('POST', '/api/jobs', { headers: { ...(await apiKeyHeader(app, ['jobs:read'])), ...json }, body: '{}' });
    // One key over API_KEY_RATE_LIMIT_PER_MINUTE (10): the 11th call is a 429.
    const busy = await apiKeyHeader(app, ['jobs:read']);
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) statuses.push((await call('GET', `/api/jobs/${jobId}`, { headers: busy })).status);
    expect(statuses.slice(-2)).toEqual([200, 429]);

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
    expect((await call('GET', '/api/admin/reconcile', { headers: admin })).status).toBe(200);
    expect((await call('POST', '/api/admin/reconcile', { headers: { ...admin, ...json }, body: '{"since":"yesterday"}' })).status).toBe(400);
    expect((await call('POST', '/api/admin/reconcile', { headers: { ...admin, ...json }, body: '{"since":1700000000}' })).status).toBe(202);

    // API keys: created, listed, used, revoked (then refused with 403), and the problems of each.
    const made = await call('POST', '/api/admin/api-keys', { headers: { ...admin, ...json }, body: '{"name":"openapi","scopes":["jobs:read"]}' });
    const { key: madeKey, token } = (await made.json()) as { key: { id: string }; token: string };
    await call('GET', '/api/admin/api-keys', { headers: admin });
    await call('GET', `/api/jobs/${jobId}`, { headers: bearer(token) });
    await call('DELETE', `/api/admin/api-keys/${madeKey.id}`, { headers: admin });
    const revoked = await call('GET', `/api/jobs/${jobId}`, { headers: bearer(token) });
    expect(revoked.status).toBe(403);
    await call('DELETE', '/api/admin/api-keys/0123456789abcdef', { headers: admin });
    await call('POST', '/api/admin/api-keys', { headers: { ...admin, ...json }, body: '{"name":""}' });
    await call('POST', '/api/admin/api-keys', { headers: { ...admin, ...json }, body: '{"name":' });
    await call('POST', '/api/admin/api-keys', { headers: { ...admin, 'content-type': 'text/plain' }, body: 'x' });
    await call('GET', '/api/admin/api-keys');

    await call('GET', '/api/app/payments/pi_1OpenApi/status');
    await call('GET', '/api/oauth/userinfo');
    await call('GET', '/api/oauth/authorize?state=unknown&code=x');
    // STRIPE_APP_SIGN_IN_RATE_LIMIT_PER_MINUTE (2) per client address: the third sign-in call is a 429.
    await call('GET', '/api/oauth/login');
    expect((await call('GET', '/api/oauth/login')).status).toBe(429);

    // Last, as it locks this address out of every admin route: ADMIN_AUTH_FAILURES_PER_MINUTE (2) wrong tokens.
    await call('GET', '/api/admin/overview', { headers: bearer('not-the-admin-token') });
    await call('GET', '/api/admin/overview', { headers: bearer('not-the-admin-token') });
    expect((await call('GET', '/api/admin/overview', { headers: admin })).status).toBe(429);

    expect(violations).toEqual([]);
  });
});
