import { startTestApp, type TestApp } from '../support/app';
import { apiKeyHeader } from '../support/api-keys';
import { startRedis, type TestRedis } from '../support/redis';

const TOKEN = 'job-id-validation-admin-token-0123';
const admin = { authorization: `Bearer ${TOKEN}` };

let redis: TestRedis;
let app: TestApp;
/** An API key of the app's deployment for the jobs API. */
let auth: { authorization: string };

beforeAll(async () => {
  redis = await startRedis({ appendOnly: false });
});
afterAll(async () => {
  await redis.destroy();
});
beforeEach(async () => {
  app = await startTestApp(redis.url, { ADMIN_TOKEN: TOKEN, ADMIN_RATE_LIMIT_PER_MINUTE: '10000' });
  auth = await apiKeyHeader(app);
  // A stored job: the queue's meta hash, id counter, wait list, events stream and marker now exist.
  const res = await fetch(`${app.url}/api/jobs`, { method: 'POST', headers: { 'content-type': 'application/json', ...auth }, body: '{"n":1}' });
  expect(res.status).toBe(202);
});
afterEach(async () => {
  await app.close();
});

// Names BullMQ 5 gives the keys of a queue (`<prefix>:<queue>:<name>`, see bullmq's queue-keys.js and its
// Lua scripts): as a job id, each would make a job read land on a queue's internal key.
const BULLMQ_KEY_NAMES = [
  'meta', 'id', 'wait', 'waiting', 'active', 'paused', 'completed', 'failed', 'delayed', 'prioritized',
  'waiting-children', 'stalled', 'stalled-check', 'events', 'limiter', 'marker', 'repeat', 'pc', 'de', 'metrics', 'priority',
];

async function jobNotFound(res: Response, id: string) {
  const text = await res.text();
  expect({ id, status: res.status }).toEqual({ id, status: 404 });
  expect(JSON.parse(text)).toMatchObject({ code: 'JOB_NOT_FOUND' });
}

describe('job ids that name BullMQ internal keys', () => {
  test('GET /api/jobs/<a BullMQ key name> answers 404 JOB_NOT_FOUND, never the key', async () => {
    for (const name of BULLMQ_KEY_NAMES) await jobNotFound(await fetch(`${app.url}/api/jobs/${name}`, { headers: auth }), name);
  });

  test("GET /api/jobs/<job id>:logs (a job's own sub-key) and malformed ids answer 404 JOB_NOT_FOUND", async () => {
    const { jobId } = (await (
      await fetch(`${app.url}/api/jobs`, { method: 'POST', headers: { 'content-type': 'application/json', ...auth }, body: '{}' })
    ).json()) as { jobId: string };
    await app.deps.queues.jobs.getJob(jobId).then((job) => job!.log('a line'));
    for (const id of [`${jobId}:logs`, `${jobId}:lock`, 'x'.repeat(256), 'a b', 'a.b', 'ümlaut']) {
      await jobNotFound(await fetch(`${app.url}/api/jobs/${encodeURIComponent(id)}`, { headers: auth }), id);
    }
  });

  test('every admin job route answers 404 JOB_NOT_FOUND for a BullMQ key name and leaves the key alone', async () => {
    const metaKey = `${app.deps.config.QUEUE_PREFIX}:jobs:meta`;
    const metaBefore = await app.deps.redis.hgetall(metaKey);
    for (const name of ['meta', 'id', 'events', 'marker', 'wait']) {
      const path = `${app.url}/api/admin/queues/jobs/jobs/${name}`;
      await jobNotFound(await fetch(path, { headers: admin }), `GET ${name}`);
      await jobNotFound(await fetch(`${path}/retry`, { method: 'POST', headers: admin }), `retry ${name}`);
      await jobNotFound(await fetch(`${path}/promote`, { method: 'POST', headers: admin }), `promote ${name}`);
      await jobNotFound(await fetch(path, { method: 'DELETE', headers: admin }), `DELETE ${name}`);
    }
    expect(await app.deps.redis.hgetall(metaKey)).toEqual(metaBefore);
    expect(await app.deps.queues.jobs.count()).toBe(1);
  });
});

describe('job ids hooklane makes stay valid', () => {
  test('an API job (uuid and idempotent), an event job and an event replay job are found by id', async () => {
    const idempotent = (await (
      await fetch(`${app.url}/api/jobs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': 'valid-ids', ...auth },
        body: '{}',
      })
    ).json()) as { jobId: string };
    expect((await fetch(`${app.url}/api/jobs/${idempotent.jobId}`, { headers: auth })).status).toBe(200);
    const [uuidJob] = await app.deps.queues.jobs.getWaiting(0, 10).then((jobs) => jobs.filter((j) => j.id !== idempotent.jobId));
    expect((await fetch(`${app.url}/api/jobs/${uuidJob!.id}`, { headers: auth })).status).toBe(200);

    const events = app.deps.queues['stripe-events'];
    for (const id of ['evt_1PqRsTuVwXyZ0123', 'evt_1PqRsTuVwXyZ0123-replay-1']) {
      await events.add('customer.created', { id: 'evt_1PqRsTuVwXyZ0123' }, { jobId: id });
      const res = await fetch(`${app.url}/api/admin/queues/stripe-events/jobs/${id}`, { headers: admin });
      expect({ id, status: res.status }).toEqual({ id, status: 200 });
    }
    const removed = await fetch(`${app.url}/api/admin/queues/stripe-events/jobs/evt_1PqRsTuVwXyZ0123-replay-1`, { method: 'DELETE', headers: admin });
    expect(removed.status).toBe(200);
  });
});
