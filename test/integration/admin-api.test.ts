import { StripeApiBudget } from '../../src/stripe/stripe-api-budget';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { UnrecoverableError, Worker } from 'bullmq';
import { loadConfig } from '../../src/config';
import { runShutdownSteps } from '../../src/lifecycle';
import { createLogger } from '../../src/logger';
import { createApp } from '../../src/web/app';
import { adminTokenId } from '../../src/web/admin-auth';
import { createWebDeps } from '../../src/web/deps';
import type { JobDetail, JobPage, Overview } from '../../src/admin/admin-types';
import { buildStripeEvent } from '../../src/dev/stripe-event-builder';
import { intakeLogFor } from '../../src/events/intake-log';
import { createRedis, waitForRedis } from '../../src/redis';
import { startTestApp, type TestApp } from '../support/app';
import { fillToMaxmemory, startRedis, type TestRedis } from '../support/redis';

const TOKEN = 'admin-api-test-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };

let redis: TestRedis;
let app: TestApp;

beforeAll(async () => {
  redis = await startRedis({ appendOnly: false });
});
afterAll(async () => {
  await redis.destroy();
});
beforeEach(async () => {
  app = await startTestApp(redis.url, { ADMIN_TOKEN: TOKEN, ADMIN_RATE_LIMIT_PER_MINUTE: '10000' });
});
afterEach(async () => {
  await app.close();
});

const get = (path: string, headers: Record<string, string> = auth) => fetch(`${app.url}${path}`, { headers });
const send = (method: string, path: string) => fetch(`${app.url}${path}`, { method, headers: auth });
const jobsQueue = () => app.deps.queues.jobs;

/** A real BullMQ worker on the app's queue that fails every job permanently; resolves once `count` failed. */
async function failJobs(count: number): Promise<string[]> {
  const connection = createRedis(app.deps.config, 'worker');
  const worker = new Worker(
    jobsQueue().name,
    async () => {
      throw new UnrecoverableError('asked to fail permanently');
    },
    { connection, prefix: app.deps.config.QUEUE_PREFIX, metrics: { maxDataPoints: 60 } },
  );
  const failed: string[] = [];
  const done = new Promise<void>((resolve) =>
    worker.on('failed', (job) => {
      failed.push(job!.id!);
      if (failed.length === count) resolve();
    }),
  );
  for (let i = 0; i < count; i += 1) await jobsQueue().add('job', { n: i });
  await done;
  await worker.close();
  await connection.quit();
  return failed;
}

async function expectProblem(res: Response, status: number, code: string) {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(await res.json()).toMatchObject({ status, code });
}

describe('admin API', () => {
  it('refuses every admin route without the token, with 401 problem+json', async () => {
    await expectProblem(await get('/api/admin/overview', {}), 401, 'UNAUTHORIZED');
    await expectProblem(await get('/api/admin/queues/jobs/jobs', { authorization: 'Bearer wrong-token-0123456789' }), 401, 'UNAUTHORIZED');
    await expectProblem(await fetch(`${app.url}/api/admin/queues/jobs/retry-failed`, { method: 'POST' }), 401, 'UNAUTHORIZED');
    expect(await jobsQueue().count()).toBe(0);
  });

  it('tells the console which token is signed in, by id only', async () => {
    const res = await get('/api/admin/session');
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.json()).toEqual({ tokenId: expect.stringMatching(/^[0-9a-f]{8}$/) });
  });

  it('overview counts jobs by state per queue, with throughput, workers, oldest waiting age, the intake backlog, open and lost index records and Redis memory', async () => {
    const accepted = buildStripeEvent('customer.created');
    await intakeLogFor(app.deps.redis, app.deps.config).append(accepted.id, JSON.stringify(accepted));
    await jobsQueue().add('job', { a: 1 });
    await jobsQueue().add('job', { a: 2 }, { delay: 60_000 });
    await failJobs(2);
    const res = await get('/api/admin/overview');
    expect(res.status).toBe(200);
    const overview = (await res.json()) as Overview;
    const jobs = overview.queues.find((q) => q.name === 'jobs')!;
    expect(overview.queues.map((q) => q.name)).toEqual(['jobs', 'stripe-events']);
    // The worker that failed two jobs also took the first waiting one: it is among the failed.
    expect(jobs.counts).toEqual({ waiting: 0, active: 0, delayed: 1, completed: 0, failed: 3, paused: 0 });
    expect(jobs.throughput.failed).toHaveLength(60);
    expect(jobs.throughput.failed.reduce((a, b) => a + b, 0)).toBe(3);
    expect(jobs.workers).toEqual([]);
    expect(overview.intake).toEqual({ waiting: 1, pending: 0, deadLettered: 0 });
    expect(await app.moveIntake()).toBe(1);
    const moved = (await (await get('/api/admin/overview')).json()) as Overview;
    expect(moved.intake).toEqual({ waiting: 0, pending: 0, deadLettered: 0 });
    // The moved event is queued in the index until a worker processes it: one open record, none lost.
    expect(moved.events).toEqual({ open: 1, oldestOpenAgeMs: expect.any(Number), lost: 0 });
    expect(overview.events).toEqual({ open: 0, oldestOpenAgeMs: null, lost: 0 });
    expect(overview.redis).toMatchObject({ policy: 'noeviction', usedBytes: expect.any(Number) });
    expect(overview.redis.usedBytes).toBeGreaterThan(0);
  });

  it('overview shows the Stripe API budget the workers spend together: in use in the last second, sent, answered 429', async () => {
    const workerBudget = new StripeApiBudget(app.deps.redis, { perSecond: 10, keyPrefix: app.deps.config.QUEUE_PREFIX });
    await Promise.all([1, 2, 3].map(() => workerBudget.run(async () => 'answered')));

    const overview = (await (await get('/api/admin/overview')).json()) as Overview;

    // No STRIPE_API_REQUESTS_PER_SECOND and a test key (or none): the test-mode default.
    expect(overview.stripeBudget).toMatchObject({ perSecond: 10, sent: 3, rateLimited: 0, paused: false });
  });

  it('reports the oldest waiting job and online workers', async () => {
    await jobsQueue().add('job', {}, { timestamp: Date.now() - 90_000 });
    await jobsQueue().add('job', {});
    const connection = createRedis(app.deps.config, 'worker');
    const worker = new Worker('stripe-events', async () => undefined, { connection, prefix: app.deps.config.QUEUE_PREFIX });
    await worker.waitUntilReady();
    try {
      const overview = (await (await get('/api/admin/overview')).json()) as Overview;
      const [jobs, events] = overview.queues;
      expect(jobs!.oldestWaitingAgeMs).toBeGreaterThanOrEqual(90_000);
      expect(jobs!.workers).toHaveLength(0);
      expect(events!.workers).toHaveLength(1);
      expect(events!.oldestWaitingAgeMs).toBeNull();
    } finally {
      await worker.close();
      await connection.quit();
    }
  });

  it('lists jobs by state, newest first, in pages', async () => {
    for (let i = 0; i < 5; i += 1) await jobsQueue().add('job', { i }, { delay: 60_000 + i });
    const first = (await (await get('/api/admin/queues/jobs/jobs?state=delayed&pageSize=2')).json()) as JobPage;
    const third = (await (await get('/api/admin/queues/jobs/jobs?state=delayed&pageSize=2&page=3')).json()) as JobPage;
    expect(first).toMatchObject({ queue: 'jobs', state: 'delayed', page: 1, pageSize: 2, total: 5 });
    expect(first.jobs).toHaveLength(2);
    expect(third.jobs).toHaveLength(1);
    expect(new Set([...first.jobs, ...third.jobs].map((j) => j.id)).size).toBe(3);
  });

  it('rejects an unknown queue with 404 and a bad state or page size with 400', async () => {
    await expectProblem(await get('/api/admin/queues/nope/jobs'), 404, 'QUEUE_NOT_FOUND');
    await expectProblem(await get('/api/admin/queues/jobs/jobs?state=bogus'), 400, 'VALIDATION_FAILED');
    await expectProblem(await get('/api/admin/queues/jobs/jobs?pageSize=1000'), 400, 'VALIDATION_FAILED');
  });

  it('shows a failed job with its data, attempts, logs and stack trace', async () => {
    const [id] = await failJobs(1);
    const detail = (await (await get(`/api/admin/queues/jobs/jobs/${id}`)).json()) as JobDetail;
    expect(detail).toMatchObject({ id, queue: 'jobs', state: 'failed', data: { n: 0 }, attemptsMade: 1, failedReason: 'asked to fail permanently' });
    expect(detail.stacktrace.join('\n')).toContain('UnrecoverableError');
    await expectProblem(await get('/api/admin/queues/jobs/jobs/missing'), 404, 'JOB_NOT_FOUND');
  });

  it('retries a failed job back to waiting, and refuses to retry it again while it waits', async () => {
    const [id] = await failJobs(1);
    const res = await send('POST', `/api/admin/queues/jobs/jobs/${id}/retry`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ action: 'retry', queue: 'jobs', jobId: id });
    expect(await (await jobsQueue().getJob(id!))!.getState()).toBe('waiting');
    await expectProblem(await send('POST', `/api/admin/queues/jobs/jobs/${id}/retry`), 409, 'JOB_ACTION_CONFLICT');
  });

  it('promotes a delayed job and refuses to promote one that is not delayed', async () => {
    const job = await jobsQueue().add('job', {}, { delay: 600_000 });
    expect((await send('POST', `/api/admin/queues/jobs/jobs/${job.id}/promote`)).status).toBe(200);
    expect(await job.getState()).toBe('waiting');
    await expectProblem(await send('POST', `/api/admin/queues/jobs/jobs/${job.id}/promote`), 409, 'JOB_ACTION_CONFLICT');
  });

  it('removes a job', async () => {
    const job = await jobsQueue().add('job', {});
    expect((await send('DELETE', `/api/admin/queues/jobs/jobs/${job.id}`)).status).toBe(200);
    expect(await jobsQueue().getJob(job.id!)).toBeUndefined();
    await expectProblem(await send('DELETE', `/api/admin/queues/jobs/jobs/${job.id}`), 404, 'JOB_NOT_FOUND');
  });

  it('retries all failed jobs at once and says how many', async () => {
    await failJobs(3);
    const res = await send('POST', '/api/admin/queues/jobs/retry-failed');
    expect(await res.json()).toEqual({ action: 'retry-all-failed', queue: 'jobs', count: 3 });
    expect(await jobsQueue().getJobCounts('failed', 'waiting')).toMatchObject({ failed: 0, waiting: 3 });
  });

  it('logs every action with the token id (never the token), what, on which job, and how it ended', async () => {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    const config = loadConfig({ NODE_ENV: 'test', REDIS_URL: redis.url, QUEUE_PREFIX: `test-${randomUUID()}`, ADMIN_TOKEN: TOKEN });
    const logger = createLogger({ level: 'info', name: 'web' }, sink);
    const deps = createWebDeps(config, logger);
    await waitForRedis(deps.redis, 20_000);
    const server = createServer(createApp(deps));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const job = await deps.queues.jobs.add('job', {}, { delay: 60_000 });
      await fetch(`${url}/api/admin/queues/jobs/jobs/${job.id}/promote`, { method: 'POST', headers: auth });
      await fetch(`${url}/api/admin/queues/jobs/jobs/${job.id}/promote`, { method: 'POST', headers: auth });
      const actions = lines.filter((l) => l.msg === 'admin action');
      expect(actions).toEqual([
        expect.objectContaining({ admin: adminTokenId(TOKEN), action: 'job.promote', queue: 'jobs', jobId: job.id, outcome: 'done' }),
        expect.objectContaining({ admin: adminTokenId(TOKEN), action: 'job.promote', jobId: job.id, outcome: 'refused', code: 'JOB_ACTION_CONFLICT' }),
      ]);
      expect(JSON.stringify(lines)).not.toContain(TOKEN);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await runShutdownSteps(deps.closeSteps, logger);
    }
  });

  describe('when Redis is full (maxmemory reached under noeviction)', () => {
    let full: TestRedis;
    let fullApp: TestApp;
    beforeEach(async () => {
      full = await startRedis({ appendOnly: false });
      fullApp = await startTestApp(full.url, { ADMIN_TOKEN: TOKEN, ADMIN_AUTH_FAILURES_PER_MINUTE: '2' });
    });
    afterEach(async () => {
      await fullApp.close();
      await full.destroy();
    });

    it('the overview and job removal still work with the admin token, so operators can free memory', async () => {
      const jobs = await Promise.all([0, 1, 2].map((n) => fullApp.deps.queues.jobs.add('job', { n })));
      const redisFull = await fillToMaxmemory(full.url);
      try {
        const overview = await fetch(`${fullApp.url}/api/admin/overview`, { headers: auth });
        expect(overview.status).toBe(200);
        expect(((await overview.json()) as Overview).queues.find((q) => q.name === 'jobs')?.counts.waiting).toBe(3);

        const removed = await fetch(`${fullApp.url}/api/admin/queues/jobs/jobs/${jobs[0]!.id}`, { method: 'DELETE', headers: auth });
        expect(removed.status).toBe(200);
        expect(await fullApp.deps.queues.jobs.getJob(jobs[0]!.id!)).toBeUndefined();
      } finally {
        await redisFull.free();
      }
    });

    it('wrong tokens are still limited per address while Redis refuses writes', async () => {
      await fillToMaxmemory(full.url);
      const statuses: number[] = [];
      for (let i = 0; i < 3; i += 1) {
        statuses.push((await fetch(`${fullApp.url}/api/admin/overview`, { headers: { authorization: 'Bearer wrong-token-0123456789' } })).status);
      }
      expect(statuses).toEqual([401, 401, 429]);
    });
  });
});
