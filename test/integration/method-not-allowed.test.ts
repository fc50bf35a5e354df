import { startTestApp, type TestApp } from '../support/app';
import { startRedis, type TestRedis } from '../support/redis';

describe('a known route with the wrong method', () => {
  let redis: TestRedis;
  let app: TestApp;
  beforeAll(async () => {
    redis = await startRedis();
    app = await startTestApp(redis.url, { STRIPE_WEBHOOK_SECRET: 'whsec_method_test_0123456789' });
  });
  afterAll(async () => {
    await app?.close();
    await redis?.stop();
  });

  async function expect405(method: string, path: string, allow: string[]): Promise<void> {
    const res = await fetch(`${app.url}${path}`, { method });
    expect(res.status).toBe(405);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect((await res.json()) as { code: string }).toMatchObject({ code: 'METHOD_NOT_ALLOWED' });
    expect(res.headers.get('allow')?.split(', ').sort()).toEqual([...allow].sort());
  }

  test('GET /api/jobs answers 405 METHOD_NOT_ALLOWED with Allow: POST', () => expect405('GET', '/api/jobs', ['POST']));
  test('POST /healthz answers 405 with Allow: GET, HEAD', () => expect405('POST', '/healthz', ['GET', 'HEAD']));
  test('GET /webhooks/stripe answers 405 with Allow: POST', () => expect405('GET', '/webhooks/stripe', ['POST']));
  test('DELETE /api/jobs/:id answers 405 with Allow: GET, HEAD (a path with a parameter)', () =>
    expect405('DELETE', '/api/jobs/some-id', ['GET', 'HEAD']));

  test('an unknown path is still 404 NOT_FOUND, whatever the method', async () => {
    const res = await fetch(`${app.url}/api/nothing-here`, { method: 'POST' });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { code: string }).code).toBe('NOT_FOUND');
  });
});
