import { randomUUID } from 'node:crypto';
import { ApiKeyStore } from '../../src/api-keys/api-key-store';
import type { ApiKeyView, CreatedApiKey } from '../../src/api-keys/api-key-types';
import { startTestApp, type TestApp } from '../support/app';
import { startRedis, type TestRedis } from '../support/redis';
import { deliver, fixtureEvent, WEBHOOK_SECRET } from './webhooks-support';

const ADMIN_TOKEN = 'jobs-api-keys-admin-token-0123456789';

let redis: TestRedis;
let app: TestApp;

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis.destroy();
});
beforeEach(async () => {
  app = await startTestApp(redis.url, { ADMIN_TOKEN, STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET });
});
afterEach(async () => {
  await app.close();
});

async function expectProblem(res: Response, status: number, code: string): Promise<Record<string, unknown>> {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  const body = (await res.json()) as Record<string, unknown>;
  expect(body).toMatchObject({ status, code });
  return body;
}

const admin = (path: string, init: RequestInit = {}) =>
  fetch(`${app.url}/api/admin/api-keys${path}`, {
    ...init,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json', ...init.headers },
  });

async function createKey(body: Record<string, unknown> = { name: 'test client' }): Promise<CreatedApiKey> {
  const res = await admin('', { method: 'POST', body: JSON.stringify(body) });
  expect(res.status).toBe(201);
  return (await res.json()) as CreatedApiKey;
}

const postJob = (token: string | undefined, body: string = '{"hello":"world"}', url = app.url) =>
  fetch(`${url}/api/jobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body,
  });

const getJob = (token: string, id: string) => fetch(`${app.url}/api/jobs/${id}`, { headers: { authorization: `Bearer ${token}` } });

describe('attack: anonymous clients filling Redis through the jobs API', () => {
  test('an anonymous POST /api/jobs answers 401 with WWW-Authenticate: Bearer and stores nothing', async () => {
    const res = await postJob(undefined, JSON.stringify({ filler: 'x'.repeat(1000) }));
    await expectProblem(res, 401, 'UNAUTHORIZED');
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(await app.deps.queues.jobs.count()).toBe(0);
  });

  test('an anonymous GET /api/jobs/:id answers 401 and reveals nothing about the job', async () => {
    const job = await app.deps.queues.jobs.add('job', { secret: 'data' });
    const res = await fetch(`${app.url}/api/jobs/${job.id}`);
    const body = await expectProblem(res, 401, 'UNAUTHORIZED');
    expect(JSON.stringify(body)).not.toContain('secret');
  });

  test('the admin token is not an API key: 401 and nothing stored', async () => {
    await expectProblem(await postJob(ADMIN_TOKEN), 401, 'UNAUTHORIZED');
    expect(await app.deps.queues.jobs.count()).toBe(0);
  });

  test('a forged key (a real id with a guessed secret, or a malformed token) answers 401 and stores nothing', async () => {
    const { key } = await createKey();
    await expectProblem(await postJob(`hl_${key.id}_${'0'.repeat(64)}`), 401, 'UNAUTHORIZED');
    await expectProblem(await postJob(`hl_${key.id}_short`), 401, 'UNAUTHORIZED');
    await expectProblem(await postJob('Basic abc'), 401, 'UNAUTHORIZED');
    expect(await app.deps.queues.jobs.count()).toBe(0);
  });
});

describe('API keys', () => {
  test('a key created by an admin posts a job (202) and reads it back (200); lastUsedAt is recorded', async () => {
    const { token, key } = await createKey({ name: 'billing sync' });
    expect(token).toMatch(/^hl_[0-9a-f]{16}_[0-9a-f]{64}$/);
    expect(key).toMatchObject({ name: 'billing sync', scopes: ['jobs:write', 'jobs:read'], lastUsedAt: null, revokedAt: null });
    const res = await postJob(token);
    expect(res.status).toBe(202);
    const { jobId } = (await res.json()) as { jobId: string };
    expect((await app.deps.queues.jobs.getJob(jobId))?.data).toEqual({ hello: 'world' });
    const view = await getJob(token, jobId);
    expect(view.status).toBe(200);
    expect(await view.json()).toMatchObject({ id: jobId, state: 'waiting' });

    const deadline = Date.now() + 5000;
    let listed: ApiKeyView | undefined;
    while (Date.now() < deadline && !listed?.lastUsedAt) {
      listed = ((await (await admin('')).json()) as { keys: ApiKeyView[] }).keys.find((k) => k.id === key.id);
      if (!listed?.lastUsedAt) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(listed?.lastUsedAt).not.toBeNull();
  });

  test('attack: a revoked key answers 403 and stores nothing', async () => {
    const { token, key } = await createKey();
    expect((await postJob(token)).status).toBe(202);
    const revoked = await admin(`/${key.id}`, { method: 'DELETE' });
    expect(revoked.status).toBe(200);
    expect(((await revoked.json()) as { key: ApiKeyView }).key.revokedAt).not.toBeNull();
    await expectProblem(await postJob(token, '{"after":"revocation"}'), 403, 'FORBIDDEN');
    expect(await app.deps.queues.jobs.count()).toBe(1);
  });

  test('attack: a read-only key cannot post (403, nothing stored) but reads; a write-only key cannot read', async () => {
    const reader = await createKey({ name: 'dashboard', scopes: ['jobs:read'] });
    const writer = await createKey({ name: 'producer', scopes: ['jobs:write'] });
    const denied = await postJob(reader.token);
    await expectProblem(denied, 403, 'FORBIDDEN');
    expect(denied.headers.get('www-authenticate')).toContain('insufficient_scope');
    expect(await app.deps.queues.jobs.count()).toBe(0);

    const { jobId } = (await (await postJob(writer.token)).json()) as { jobId: string };
    expect((await getJob(reader.token, jobId)).status).toBe(200);
    await expectProblem(await getJob(writer.token, jobId), 403, 'FORBIDDEN');
  });

  test('unknown scopes and empty names are refused with 400', async () => {
    expect((await admin('', { method: 'POST', body: JSON.stringify({ name: 'x', scopes: ['jobs:admin'] }) })).status).toBe(400);
    expect((await admin('', { method: 'POST', body: JSON.stringify({ name: '  ' }) })).status).toBe(400);
    await expectProblem(await admin('/0123456789abcdef', { method: 'DELETE' }), 404, 'API_KEY_NOT_FOUND');
  });

  test('the admin API needs the admin token; an API key does not open it', async () => {
    const { token } = await createKey();
    const res = await fetch(`${app.url}/api/admin/api-keys`, { headers: { authorization: `Bearer ${token}` } });
    await expectProblem(res, 401, 'UNAUTHORIZED');
  });

  test('attack: Redis leak: the stored hash never equals or contains the secret, and the list shows no secret', async () => {
    const { token, key } = await createKey();
    const secret = token.split('_')[2]!;
    const keys = await app.deps.redis.keys(`${app.deps.config.QUEUE_PREFIX}:api-keys:*`);
    const stored = JSON.stringify(
      await Promise.all(keys.map(async (k) => ((await app.deps.redis.type(k)) === 'hash' ? app.deps.redis.hgetall(k) : app.deps.redis.zrange(k, 0, -1)))),
    );
    expect(stored).toContain(key.id);
    expect(stored).not.toContain(secret);
    expect(stored).not.toContain(secret.slice(0, 16));
    const listing = await (await admin('')).text();
    expect(listing).toContain(key.id);
    expect(listing).not.toContain(secret);
    expect(listing).not.toMatch(/"(hash|token|secret)"/);
  });
});

describe('limits', () => {
  test('attack: one key flooding two web instances is limited across both: 429 with Retry-After, nothing stored', async () => {
    const prefix = `test-${randomUUID()}`;
    const env = { QUEUE_PREFIX: prefix, API_KEY_RATE_LIMIT_PER_MINUTE: '3' };
    const [a, b] = await Promise.all([startTestApp(redis.url, env), startTestApp(redis.url, env)]);
    try {
      const { token } = await new ApiKeyStore(a.deps.redis, { prefix }).create({ name: 'flood' });
      const statuses = [];
      for (const url of [a.url, b.url, a.url]) statuses.push((await postJob(token, '{}', url)).status);
      expect(statuses).toEqual([202, 202, 202]);
      const limited = await postJob(token, '{}', b.url);
      await expectProblem(limited, 429, 'RATE_LIMITED');
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(await a.deps.queues.jobs.count()).toBe(3);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  test('attack: a 100 kB job body answers 413 PAYLOAD_TOO_LARGE and stores nothing, while a 100 kB webhook is accepted', async () => {
    const { token } = await createKey();
    const big = JSON.stringify({ filler: 'x'.repeat(100 * 1024) });
    await expectProblem(await postJob(token, big), 413, 'PAYLOAD_TOO_LARGE');
    expect(await app.deps.queues.jobs.count()).toBe(0);

    const { event } = fixtureEvent('payment_intent.succeeded');
    (event.data.object as unknown as { metadata: Record<string, string> }).metadata = { filler: 'x'.repeat(100 * 1024) };
    const payload = JSON.stringify(event);
    expect(Buffer.byteLength(payload)).toBeGreaterThan(100 * 1024);
    const delivery = await deliver(app.url, payload);
    expect(delivery.status).toBe(200);
  });
});
