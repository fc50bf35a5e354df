import { randomUUID } from 'node:crypto';
import { startTestApp, type TestApp } from '../support/app';
import { apiKeyHeader } from '../support/api-keys';
import { startRedis, type TestRedis } from '../support/redis';

// Two web instances (two createApp, two Redis connections) sharing one Redis and one queue prefix: what
// an Idempotency-Key race across a horizontally scaled web tier looks like.
let redis: TestRedis;
let webA: TestApp;
let webB: TestApp;
/** One API key, valid on both instances (they share Redis and the prefix). */
let auth: { authorization: string };

beforeAll(async () => {
  redis = await startRedis({ appendOnly: false });
});
afterAll(async () => {
  await redis.destroy();
});
beforeEach(async () => {
  const shared = { QUEUE_PREFIX: `test-${randomUUID()}` };
  [webA, webB] = await Promise.all([startTestApp(redis.url, shared), startTestApp(redis.url, shared)]);
  auth = await apiKeyHeader(webA);
});
afterEach(async () => {
  await Promise.all([webA.close(), webB.close()]);
});

interface Answer {
  status: number;
  body: Record<string, unknown>;
  sent: Record<string, unknown>;
}

async function post(app: TestApp, key: string, sent: Record<string, unknown>): Promise<Answer> {
  const res = await fetch(`${app.url}/api/jobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': key, ...auth },
    body: JSON.stringify(sent),
    signal: AbortSignal.timeout(5000),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown>, sent };
}

const ROUNDS = 20;

describe('Idempotency-Key races between two web instances', () => {
  test('one key sent at once with two different bodies: exactly one 202, the other 422, and the job holds the 202 body', async () => {
    for (let round = 0; round < ROUNDS; round += 1) {
      const key = `race-${round}`;
      const answers = await Promise.all([post(webA, key, { round, from: 'a' }), post(webB, key, { round, from: 'b' })]);

      const accepted = answers.filter((a) => a.status === 202);
      const refused = answers.filter((a) => a.status === 422);
      expect({ round, accepted: accepted.length, refused: refused.length }).toEqual({ round, accepted: 1, refused: 1 });
      expect(refused[0]!.body).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED' });
      const job = await webA.deps.queues.jobs.getJob(String(accepted[0]!.body.jobId));
      expect(job?.data).toEqual(accepted[0]!.sent);
      expect(accepted[0]!.body.replayed).toBe(false);
    }
    expect(await webA.deps.queues.jobs.count()).toBe(ROUNDS);
  });

  test('one key sent at once with the same body: both 202 with one job id, one of them replayed', async () => {
    for (let round = 0; round < ROUNDS; round += 1) {
      const key = `same-${round}`;
      const answers = await Promise.all([post(webA, key, { round }), post(webB, key, { round })]);

      expect(answers.map((a) => a.status)).toEqual([202, 202]);
      expect(answers[0]!.body.jobId).toBe(answers[1]!.body.jobId);
      expect(answers.map((a) => a.body.replayed).sort()).toEqual([false, true]);
      expect((await webA.deps.queues.jobs.getJob(String(answers[0]!.body.jobId)))?.data).toEqual({ round });
    }
    expect(await webA.deps.queues.jobs.count()).toBe(ROUNDS);
  });
});

describe('Idempotency-Key when the add fails after the key was claimed', () => {
  test('a crash between claim and add: the retry with the same body stores the job, and nothing answers 2xx before', async () => {
    const add = jest.spyOn(webA.deps.queues.jobs, 'add').mockRejectedValueOnce(new Error('Connection is closed.'));
    const failed = await post(webA, 'claimed-then-crashed', { n: 1 });
    expect(failed.status).toBe(503);
    expect(await webA.deps.queues.jobs.count()).toBe(0);
    add.mockRestore();

    const retry = await post(webB, 'claimed-then-crashed', { n: 1 });
    expect(retry.status).toBe(202);
    expect(retry.body.replayed).toBe(true);
    expect((await webB.deps.queues.jobs.getJob(String(retry.body.jobId)))?.data).toEqual({ n: 1 });
    expect(await webB.deps.queues.jobs.count()).toBe(1);
  });

  test('a replay of a stored job that has since been removed does not run it again', async () => {
    const first = await post(webA, 'done-then-removed', { n: 2 });
    expect(first.status).toBe(202);
    await webA.deps.queues.jobs.remove(String(first.body.jobId));

    const replay = await post(webB, 'done-then-removed', { n: 2 });
    expect(replay).toMatchObject({ status: 202, body: { jobId: first.body.jobId, replayed: true } });
    expect(await webB.deps.queues.jobs.count()).toBe(0);
  });

  test('a key whose record expired can be used again with another body, and gets a job of its own', async () => {
    const first = await post(webA, 'expired-key', { n: 3 });
    const records = await webA.deps.redis.keys(`${webA.deps.config.QUEUE_PREFIX}:jobs:idempotency:*`);
    expect(records).toHaveLength(1);
    await webA.deps.redis.del(records[0]!);

    const second = await post(webB, 'expired-key', { n: 4 });
    expect(second.status).toBe(202);
    expect(second.body.jobId).not.toBe(first.body.jobId);
    expect((await webB.deps.queues.jobs.getJob(String(second.body.jobId)))?.data).toEqual({ n: 4 });
  });
});
