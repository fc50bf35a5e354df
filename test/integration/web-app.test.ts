import { request } from 'node:http';
import { ApiKeyStore } from '../../src/api-keys/api-key-store';
import { startTestApp, type TestApp } from '../support/app';
import { startRedis, type TestRedis } from '../support/redis';

let redis: TestRedis;
let app: TestApp;
/** Authorization header of an API key of this app's deployment. */
let auth: { authorization: string };

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis.destroy();
});
beforeEach(async () => {
  app = await startTestApp(redis.url, { BODY_LIMIT: '1kb', JOBS_BODY_LIMIT: '1kb' });
  const { token } = await new ApiKeyStore(app.deps.redis, { prefix: app.deps.config.QUEUE_PREFIX }).create({ name: 'web-app test' });
  auth = { authorization: `Bearer ${token}` };
});
afterEach(async () => {
  await app.close();
});

const postJson = (body: string, headers: Record<string, string> = {}) =>
  fetch(`${app.url}/api/jobs`, { method: 'POST', headers: { 'content-type': 'application/json', ...auth, ...headers }, body });

async function expectProblem(res: Response, status: number, code: string): Promise<Record<string, unknown>> {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  const body = (await res.json()) as Record<string, unknown>;
  expect(body).toMatchObject({ status, code, type: expect.stringContaining('urn:hooklane:problem:') });
  expect(JSON.stringify(body)).not.toMatch(/at .+\.(js|ts):\d+/);
  return body;
}

describe('health', () => {
  test('healthz answers 200 while the process runs', async () => {
    const res = await fetch(`${app.url}/healthz`);
    expect(res.status).toBe(200);
  });

  test('readyz answers 200 while Redis answers and 503 once shutdown begins', async () => {
    expect((await fetch(`${app.url}/readyz`)).status).toBe(200);
    app.deps.lifecycle.beginShutdown();
    const res = await fetch(`${app.url}/readyz`);
    expect(res.status).toBe(503);
    expect(res.headers.get('connection')).toBe('close');
  });

  test('helmet headers are set', async () => {
    const res = await fetch(`${app.url}/healthz`);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-powered-by')).toBeNull();
  });
});

describe('request ids', () => {
  test('an incoming X-Request-Id is returned unchanged', async () => {
    const res = await fetch(`${app.url}/healthz`, { headers: { 'x-request-id': 'abc-123' } });
    expect(res.headers.get('x-request-id')).toBe('abc-123');
  });

  test('without one (or with a malformed one) a fresh id is generated', async () => {
    const a = await fetch(`${app.url}/healthz`);
    const b = await fetch(`${app.url}/healthz`, { headers: { 'x-request-id': 'bad id with spaces' } });
    expect(a.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(b.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(a.headers.get('x-request-id')).not.toBe(b.headers.get('x-request-id'));
  });
});

describe('bad input', () => {
  test('malformed JSON answers 400 MALFORMED_JSON and stores nothing', async () => {
    const before = await app.deps.queues.jobs.count();
    await expectProblem(await postJson('{"a":'), 400, 'MALFORMED_JSON');
    expect(await app.deps.queues.jobs.count()).toBe(before);
  });

  test('a body over the limit answers 413 PAYLOAD_TOO_LARGE', async () => {
    await expectProblem(await postJson(JSON.stringify({ big: 'x'.repeat(2048) })), 413, 'PAYLOAD_TOO_LARGE');
  });

  test('a JSON array is not a job: 400 VALIDATION_FAILED', async () => {
    await expectProblem(await postJson('[1,2]'), 400, 'VALIDATION_FAILED');
  });

  test('a non-JSON content type answers 415', async () => {
    const res = await fetch(`${app.url}/api/jobs`, { method: 'POST', headers: { 'content-type': 'text/plain', ...auth }, body: 'hi' });
    await expectProblem(res, 415, 'UNSUPPORTED_MEDIA_TYPE');
  });

  test('an unknown route answers 404 problem+json with the request id', async () => {
    const res = await fetch(`${app.url}/api/nope`, { headers: { 'x-request-id': 'rid-404' } });
    const body = await expectProblem(res, 404, 'NOT_FOUND');
    expect(body.requestId).toBe('rid-404');
  });

  test('an unknown job id answers 404 JOB_NOT_FOUND', async () => {
    await expectProblem(await fetch(`${app.url}/api/jobs/does-not-exist`, { headers: auth }), 404, 'JOB_NOT_FOUND');
  });

  test('a malformed Idempotency-Key answers 400', async () => {
    await expectProblem(await postJson('{}', { 'idempotency-key': 'x'.repeat(300) }), 400, 'VALIDATION_FAILED');
  });
});

describe('jobs API', () => {
  test('POST answers 202 with the id of a job Redis holds, with its data', async () => {
    const res = await postJson(JSON.stringify({ hello: 'world' }));
    expect(res.status).toBe(202);
    const { jobId } = (await res.json()) as { jobId: string };
    expect(res.headers.get('location')).toBe(`/api/jobs/${jobId}`);
    const job = await app.deps.queues.jobs.getJob(jobId);
    expect(job?.data).toEqual({ hello: 'world' });
    const view = (await (await fetch(`${app.url}/api/jobs/${jobId}`, { headers: auth })).json()) as Record<string, unknown>;
    expect(view).toMatchObject({ id: jobId, name: 'job', state: 'waiting', attemptsMade: 0, logs: [] });
    expect(Object.keys(view).sort()).toEqual(
      ['attemptsMade', 'createdAt', 'failedReason', 'finishedAt', 'id', 'logs', 'name', 'processedAt', 'progress', 'returnValue', 'state'].sort(),
    );
  });

  test('retries with the same Idempotency-Key return the same job and create no second one', async () => {
    const first = (await (await postJson('{"n":1}', { 'idempotency-key': 'key-1' })).json()) as { jobId: string };
    const second = (await (await postJson('{"n":1}', { 'idempotency-key': 'key-1' })).json()) as { jobId: string };
    expect(second.jobId).toBe(first.jobId);
    expect(await app.deps.queues.jobs.count()).toBe(1);
  });

  test('concurrent retries with one Idempotency-Key collapse onto one job', async () => {
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => postJson('{"n":2}', { 'idempotency-key': 'key-concurrent' })),
    );
    const ids = new Set(await Promise.all(answers.map(async (r) => ((await r.json()) as { jobId: string }).jobId)));
    expect(answers.every((r) => r.status === 202)).toBe(true);
    expect(ids.size).toBe(1);
    expect(await app.deps.queues.jobs.count()).toBe(1);
  });

  test('the same Idempotency-Key with a different body answers 422', async () => {
    await postJson('{"n":1}', { 'idempotency-key': 'key-2' });
    await expectProblem(await postJson('{"n":2}', { 'idempotency-key': 'key-2' }), 422, 'IDEMPOTENCY_KEY_REUSED');
  });

  test('jobs carry their retry options; retention is left to the workers (not stored in every job)', async () => {
    const { jobId } = (await (await postJson('{}')).json()) as { jobId: string };
    const job = await app.deps.queues.jobs.getJob(jobId);
    expect(job?.opts).toMatchObject({ attempts: 5, backoff: { type: 'exponential', delay: 1000 } });
    expect(job?.opts).not.toHaveProperty('removeOnComplete');
    expect(job?.opts).not.toHaveProperty('removeOnFail');
  });
});

describe('when Redis is unreachable', () => {
  test('producers answer 503 with Retry-After quickly, readyz is 503, and nothing hangs', async () => {
    await redis.stop();
    try {
      // The signal bounds the request: a hanging producer fails the test instead of answering late.
      const res = await fetch(`${app.url}/api/jobs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...auth },
        body: '{}',
        signal: AbortSignal.timeout(3000),
      });
      await expectProblem(res, 503, 'REDIS_UNAVAILABLE');
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
      const ready = await fetch(`${app.url}/readyz`, { signal: AbortSignal.timeout(3000) });
      expect(ready.status).toBe(503);
    } finally {
      await redis.start();
    }
  });
});

describe('slow clients', () => {
  test('a request whose body is still arriving is answered once it completes', async () => {
    const { port } = new URL(app.url);
    const status = await new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/api/jobs', headers: { 'content-type': 'application/json', ...auth } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.write('{"slow":');
      setImmediate(() => req.end('true}'));
    });
    expect(status).toBe(202);
  });
});
