import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import { Job } from 'bullmq';
import { createLogger } from '../../src/logger';
import { startTestApp, type TestApp } from '../support/app';
import { apiKeyHeader } from '../support/api-keys';
import { startRedis, type TestRedis } from '../support/redis';

type Line = Record<string, unknown> & { level: string; msg: string };

// The problem handler's own line: 'request failed' at error for a bug, 'request rejected' at warn otherwise
// (pino-http's closing line is at error for any 5xx either way).
const failedLines = () => lines.filter((line) => line.level === 'error' && line.msg === 'request failed');
const rejectedLines = (code: string) => lines.filter((line) => line.level === 'warn' && line.msg === 'request rejected' && line.code === code);

const ADMIN_TOKEN = 'redis-error-mapping-admin-token-01';

let redis: TestRedis;
let app: TestApp;
/** An API key of the app's deployment for the jobs API. */
let auth: { authorization: string };
let lines: Line[];

beforeAll(async () => {
  redis = await startRedis({ appendOnly: false, extraArgs: ['--maxmemory-policy', 'noeviction'] });
});
afterAll(async () => {
  await redis.destroy();
});
beforeEach(async () => {
  lines = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const text of chunk.toString().split('\n')) if (text) lines.push(JSON.parse(text) as Line);
      done();
    },
  });
  app = await startTestApp(redis.url, { ADMIN_TOKEN, ADMIN_RATE_LIMIT_PER_MINUTE: '10000' }, { logger: createLogger({ level: 'info', name: 'web' }, sink) });
  auth = await apiKeyHeader(app);
});
afterEach(async () => {
  await app.close();
});

const postJob = (body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${app.url}/api/jobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...auth, ...headers },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(5000),
  });

async function expectProblem(res: Response, status: number, code: string): Promise<string> {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  const text = await res.text();
  expect(JSON.parse(text)).toMatchObject({ status, code });
  expect(text).not.toMatch(/at .+\.(js|ts):\d+/);
  return text;
}

const idempotencyRecordKey = (key: string) =>
  `${app.deps.config.QUEUE_PREFIX}:jobs:idempotency:${createHash('sha256').update(key).digest('hex')}`;

describe('a Redis error that is a bug, not an outage', () => {
  test('WRONGTYPE on the idempotency record answers 500 INTERNAL, logged at error, without Retry-After or details', async () => {
    await app.deps.redis.rpush(idempotencyRecordKey('wrongtype-key'), 'not a record');

    const res = await postJob({ n: 1 }, { 'idempotency-key': 'wrongtype-key' });

    const text = await expectProblem(res, 500, 'INTERNAL');
    expect(res.headers.get('retry-after')).toBeNull();
    expect(text).not.toMatch(/WRONGTYPE/);
    const logged = failedLines();
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ code: 'INTERNAL' });
    expect(JSON.stringify(logged[0])).toMatch(/WRONGTYPE/);
    expect(await app.deps.queues.jobs.count()).toBe(0);
  });

  test('WRONGTYPE on a job key read by GET /api/jobs/:id answers 500 INTERNAL, logged at error', async () => {
    await app.deps.redis.rpush(`${app.deps.config.QUEUE_PREFIX}:jobs:not-a-hash`, 'x');

    await expectProblem(await fetch(`${app.url}/api/jobs/not-a-hash`, { headers: auth }), 500, 'INTERNAL');
    expect(failedLines()).toEqual([expect.objectContaining({ code: 'INTERNAL' })]);
  });
});

describe('a Redis outage', () => {
  test('a stopped Redis answers 503 REDIS_UNAVAILABLE with Retry-After, logged as a rejection, not a failure', async () => {
    await redis.stop();
    try {
      const res = await postJob({ n: 2 }, { 'idempotency-key': 'while-stopped' });
      await expectProblem(res, 503, 'REDIS_UNAVAILABLE');
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(failedLines()).toEqual([]);
      expect(rejectedLines('REDIS_UNAVAILABLE')).toHaveLength(1);
    } finally {
      await redis.start();
    }
  });

  test('a Redis at maxmemory with noeviction (OOM) answers 503 REDIS_UNAVAILABLE and stores nothing', async () => {
    await app.deps.redis.config('SET', 'maxmemory', '1');
    try {
      for (const headers of [{}, { 'idempotency-key': 'while-full' }] as Record<string, string>[]) {
        const res = await postJob({ n: 3 }, headers);
        await expectProblem(res, 503, 'REDIS_UNAVAILABLE');
        expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
      }
      expect(failedLines()).toEqual([]);
      expect(rejectedLines('REDIS_UNAVAILABLE')).toHaveLength(2);
    } finally {
      await app.deps.redis.config('SET', 'maxmemory', '0');
    }
    expect(await app.deps.queues.jobs.count()).toBe(0);
  });
});

describe('an admin job action that Redis refuses', () => {
  const remove = (id: string) =>
    fetch(`${app.url}/api/admin/queues/jobs/jobs/${id}`, { method: 'DELETE', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });

  test('a lost connection during the action is 503 REDIS_UNAVAILABLE, not a 409 conflict', async () => {
    await app.deps.queues.jobs.add('job', {}, { jobId: 'lost-connection' });
    const spy = jest.spyOn(Job.prototype, 'remove').mockRejectedValueOnce(new Error('Connection is closed.'));
    try {
      await expectProblem(await remove('lost-connection'), 503, 'REDIS_UNAVAILABLE');
    } finally {
      spy.mockRestore();
    }
    expect(await app.deps.queues.jobs.getJob('lost-connection')).toBeDefined();
  });

  test("BullMQ's own refusal (the job moved meanwhile) stays a 409 conflict", async () => {
    await app.deps.queues.jobs.add('job', {}, { jobId: 'moved' });
    const spy = jest.spyOn(Job.prototype, 'remove').mockRejectedValueOnce(new Error('Job moved could not be removed because it is locked by another worker'));
    try {
      await expectProblem(await remove('moved'), 409, 'JOB_ACTION_CONFLICT');
    } finally {
      spy.mockRestore();
    }
  });
});
