import { startTestApp, type TestApp } from '../support/app';
import { startRedis, type TestRedis } from '../support/redis';

let redis: TestRedis;
let app: TestApp;

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis.destroy();
});
beforeEach(async () => {
  app = await startTestApp(redis.url);
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

describe('attack: anonymous clients filling Redis through the jobs API', () => {
  test('an anonymous POST /api/jobs answers 401 with WWW-Authenticate: Bearer and stores nothing', async () => {
    const res = await fetch(`${app.url}/api/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ filler: 'x'.repeat(1000) }),
    });
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
});
