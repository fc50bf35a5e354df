import { spawnSync } from 'node:child_process';
import { request } from 'node:http';
import { createApiKey } from '../support/api-keys';
import { alive, postJob, startWeb, startWorker, waitForJob, runNode, type JobsApi, type RunningProcess, type WebProcess } from '../support/processes';
import { startRedis, type TestRedis } from '../support/redis';
import { randomUUID } from 'node:crypto';

/**
 * The real entry points (dist/web/main.js, dist/worker/main.js) against a real Redis, as the Procfile
 * runs them. `npm test` builds dist/ first.
 */
let redis: TestRedis;
const running: RunningProcess[] = [];

const baseEnv = () => ({
  REDIS_URL: redis.url,
  QUEUE_PREFIX: `test-${randomUUID()}`,
  JOB_BACKOFF_DELAY_MS: '20',
  // Fast stalled-job recovery so a killed worker's job is picked up within a test's patience.
  WORKER_STALLED_INTERVAL_MS: '500',
  WORKER_LOCK_DURATION_MS: '1500',
});

/** A web process, with an API key of its deployment for the jobs API. */
async function web(env: NodeJS.ProcessEnv): Promise<WebProcess & JobsApi> {
  const p = await startWeb(env);
  running.push(p);
  return { ...p, apiKey: await createApiKey(env) };
}
async function worker(env: NodeJS.ProcessEnv): Promise<RunningProcess> {
  const p = await startWorker(env);
  running.push(p);
  return p;
}

beforeAll(async () => {
  redis = await startRedis();
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.kill('SIGKILL')));
});
afterAll(async () => {
  await redis.destroy();
});

describe.each(['thread', 'process', 'none'])('job lifecycle with WORKER_SANDBOX=%s', (sandbox) => {
  test('a posted job is processed: completed with its return value, progress and logs', async () => {
    const env = { ...baseEnv(), WORKER_SANDBOX: sandbox };
    const w = await web(env);
    await worker(env);
    const jobId = await postJob(w, { steps: 2, color: 'blue' });
    const job = await waitForJob(w, jobId, (j) => j.state === 'completed');
    expect(job.returnValue).toMatchObject({ ok: true, steps: 2, keys: ['steps', 'color'] });
    expect(job.progress).toBe(100);
    expect(job.logs).toEqual(['attempt 1 started with 2 step(s)', 'step 1/2 done', 'step 2/2 done']);
  });
});

describe('retries', () => {
  test('a transient failure retries with backoff and then completes', async () => {
    const env = baseEnv();
    const w = await web(env);
    await worker(env);
    const jobId = await postJob(w, { failUntilAttempt: 2, steps: 1 });
    const job = await waitForJob(w, jobId, (j) => j.state === 'completed');
    expect(job.attemptsMade).toBe(3);
    expect(job.returnValue).toMatchObject({ attempt: 3 });
  });

  test('a permanent failure fails at once, without using the remaining attempts', async () => {
    const env = baseEnv();
    const w = await web(env);
    const wk = await worker(env);
    const jobId = await postJob(w, { fail: 'permanent' });
    const job = await waitForJob(w, jobId, (j) => j.state === 'failed');
    expect(job.attemptsMade).toBe(1);
    expect(job.failedReason).toBe('asked to fail permanently');
    await wk.waitForOutput('"willRetry":false');
  });

  test('malformed job data fails at once as unrecoverable', async () => {
    const env = baseEnv();
    const w = await web(env);
    await worker(env);
    const jobId = await postJob(w, { steps: 'many' });
    const job = await waitForJob(w, jobId, (j) => j.state === 'failed');
    expect(job.attemptsMade).toBe(1);
    expect(job.failedReason).toMatch(/steps must be/);
  });
});

describe('worker crashes and restarts', () => {
  test('a worker SIGKILLed mid-job loses nothing: stalled-job recovery completes the job', async () => {
    const env = { ...baseEnv(), WORKER_SANDBOX: 'process' };
    const w = await web(env);
    const first = await worker(env);
    // Long enough (3 s) that a loaded machine cannot finish it between seeing it active and the kill.
    const jobId = await postJob(w, { steps: 10, stepMs: 300 });
    await waitForJob(w, jobId, (j) => j.state === 'active' && Number(j.progress) > 0);
    const sandboxChildren = childPids(first.child.pid!);
    expect(sandboxChildren.length).toBeGreaterThan(0);
    await first.kill('SIGKILL');
    // The orphaned sandbox child notices its parent is gone and exits instead of running on.
    await waitUntil(() => sandboxChildren.every((pid) => !alive(pid)));
    await worker(env);
    const job = await waitForJob(w, jobId, (j) => j.state === 'completed', 45_000);
    expect(job.returnValue).toMatchObject({ ok: true, steps: 10 });
    expect(job.logs.filter((l) => l.startsWith('attempt')).length).toBeGreaterThanOrEqual(2);
  });

  test('SIGTERM lets the active job finish, then the worker exits 0', async () => {
    const env = baseEnv();
    const w = await web(env);
    const wk = await worker(env);
    const jobId = await postJob(w, { steps: 4, stepMs: 250 });
    await waitForJob(w, jobId, (j) => j.state === 'active');
    const exit = await wk.kill('SIGTERM');
    expect(exit.code).toBe(0);
    const job = await waitForJob(w, jobId, () => true);
    expect(job.state).toBe('completed');
    expect(wk.output()).toContain('shutdown complete');
  });

  test('workers resume consuming by themselves after Redis restarts', async () => {
    const env = baseEnv();
    const w = await web(env);
    const wk = await worker(env);
    const before = await postJob(w, { steps: 1 });
    await waitForJob(w, before, (j) => j.state === 'completed');
    await redis.stop();
    await wk.waitForOutput('redis connection error');
    await redis.start();
    // The web's producer reconnects too: readyz and the API come back without a restart.
    const after = await waitForAccepted(w, { steps: 1 });
    const job = await waitForJob(w, after, (j) => j.state === 'completed', 45_000);
    expect(job.returnValue).toMatchObject({ ok: true });
    expect(wk.child.exitCode).toBeNull();
  });
});

function childPids(parent: number): number[] {
  const out = spawnSync('pgrep', ['-P', String(parent)], { encoding: 'utf8' }).stdout;
  return out.split('\n').filter(Boolean).map(Number);
}

async function waitUntil(condition: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Posts until the API accepts again (it answers 503 while its connection is still coming back). */
async function waitForAccepted(api: JobsApi, body: unknown): Promise<string> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      return await postJob(api, body);
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

describe('web shutdown', () => {
  test('SIGTERM with requests in flight: every one is answered and stored, then the process exits 0', async () => {
    const env = baseEnv();
    const w = await web(env);
    const { port } = new URL(w.url);
    // Five requests whose bodies are half sent when the signal arrives. `Expect: 100-continue` makes the
    // server confirm it has parsed each request's headers, so they are in flight from its point of view.
    const inFlight = Array.from({ length: 5 }, (_, i) => {
      const req = request({
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/api/jobs',
        headers: { 'content-type': 'application/json', expect: '100-continue', authorization: `Bearer ${w.apiKey}` },
      });
      const answered = new Promise<{ status: number; body: string }>((resolve, reject) => {
        req.on('response', (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on('error', reject);
      });
      const connected = new Promise<void>((resolve) => req.once('continue', () => resolve()));
      req.flushHeaders();
      return { req, answered, connected };
    });
    await Promise.all(inFlight.map((r) => r.connected));
    w.child.kill('SIGTERM');
    await w.waitForOutput('shutdown started');
    // While it drains, the listener is closed: a new connection is refused rather than half-served.
    await expect(fetch(`${w.url}/healthz`)).rejects.toThrow();
    inFlight.forEach((r, i) => r.req.end(`{"inflight":${i}}`));
    const answers = await Promise.all(inFlight.map((r) => r.answered));
    expect(answers.map((a) => a.status)).toEqual([202, 202, 202, 202, 202]);
    const exit = await w.exited;
    expect(exit.code).toBe(0);
    // Every answered job is in Redis: a second web (same prefix) reads them back.
    const w2 = await web(env);
    for (const a of answers) {
      const { jobId } = JSON.parse(a.body) as { jobId: string };
      const res = await fetch(`${w2.url}/api/jobs/${jobId}`, { headers: { authorization: `Bearer ${w2.apiKey}` } });
      expect(res.status).toBe(200);
    }
  });
});

describe('boot checks', () => {
  test('a missing REDIS_URL stops the process naming the key', async () => {
    const p = runNode('dist/web/main.js', { PORT: '0' });
    const exit = await p.exited;
    expect(exit.code).toBe(78);
    expect(p.output()).toContain('REDIS_URL');
  });

  test('a bad value stops the process naming the key and what it expected', async () => {
    const p = runNode('dist/worker/main.js', { REDIS_URL: redis.url, WORKER_SANDBOX: 'fork', WORKER_CONCURRENCY: '-1' });
    const exit = await p.exited;
    expect(exit.code).toBe(78);
    expect(p.output()).toContain('WORKER_SANDBOX');
    expect(p.output()).toContain('WORKER_CONCURRENCY');
  });

  test('a Redis that may evict keys is refused by both process types', async () => {
    const evicting = await startRedis({ extraArgs: ['--maxmemory-policy', 'allkeys-lru'] });
    try {
      for (const script of ['dist/web/main.js', 'dist/worker/main.js']) {
        const p = runNode(script, { REDIS_URL: evicting.url, PORT: '0' });
        const exit = await p.exited;
        expect(exit.code).toBe(1);
        expect(p.output()).toContain('noeviction');
      }
    } finally {
      await evicting.destroy();
    }
  });
});
