import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { writeLocalRedisUrl } from '../../src/cli/local-redis-url';
import { startTestApp, type TestApp } from '../support/app';
import { ROOT } from '../support/processes';
import { startRedis, type TestRedis } from '../support/redis';

let redis: TestRedis;
let app: TestApp;
let dataDir: string;

beforeAll(async () => {
  redis = await startRedis({ appendOnly: false });
});
afterAll(async () => {
  await redis.destroy();
});
beforeEach(async () => {
  app = await startTestApp(redis.url);
  dataDir = mkdtempSync(path.join(tmpdir(), 'hooklane-cli-'));
});
afterEach(async () => {
  await app.close();
  rmSync(dataDir, { recursive: true, force: true });
});

interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** `npm run api-key -- ...args` as a user types it, with only `env` (plus PATH) in the environment. */
function apiKeyCli(args: string[], env: Record<string, string>): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(
      'npm',
      ['run', '--silent', 'api-key', '--', ...args],
      { cwd: ROOT, env: { PATH: process.env.PATH, HOME: process.env.HOME, HOOKLANE_DATA_DIR: dataDir, ...env }, timeout: 60_000 },
      (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const KEY = /hl_[0-9a-f]{16}_[0-9a-f]{64}/;
const postJob = (token: string) =>
  fetch(`${app.url}/api/jobs`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: '{}' });

describe('npm run api-key', () => {
  test('create prints a key that works (202), list never prints a secret, revoke makes it answer 403', async () => {
    const env = { REDIS_URL: redis.url, QUEUE_PREFIX: app.deps.config.QUEUE_PREFIX };
    const created = await apiKeyCli(['create', 'nightly import', '--scopes', 'jobs:write'], env);
    expect(created.code).toBe(0);
    const token = KEY.exec(created.stdout)?.[0];
    expect(token).toBeDefined();
    expect(created.stdout).toContain('only time the key is shown');
    expect((await postJob(token!)).status).toBe(202);

    const listed = await apiKeyCli(['list'], env);
    expect(listed.code).toBe(0);
    const id = token!.split('_')[1]!;
    expect(listed.stdout).toContain(id);
    expect(listed.stdout).toContain('nightly import');
    expect(listed.stdout).toContain('jobs:write');
    expect(listed.stdout).not.toContain(token!.split('_')[2]!);
    expect(listed.stdout).not.toMatch(KEY);

    const revoked = await apiKeyCli(['revoke', id], env);
    expect(revoked.code).toBe(0);
    expect((await postJob(token!)).status).toBe(403);
  });

  test('with zero flags it uses the Redis that npm start left in .data/redis-url', async () => {
    writeLocalRedisUrl(dataDir, redis.url);
    // npm start's default QUEUE_PREFIX is the app's default, hooklane.
    const created = await apiKeyCli(['create', 'local'], {});
    expect(created.code).toBe(0);
    expect(created.stdout).toMatch(KEY);
    const listed = await apiKeyCli(['list'], {});
    expect(listed.stdout).toContain('local');
    await app.deps.redis.del(...(await app.deps.redis.keys('hooklane:api-keys:*')));
  });

  test('without REDIS_URL and without npm start it says exactly what to set, and exits 78', async () => {
    const run = await apiKeyCli(['list'], {});
    expect(run.code).toBe(78);
    expect(run.stderr).toContain('REDIS_URL=redis://');
    expect(run.stderr).toContain('npm start');
  });

  test('a bad scope or a missing name is a usage error (exit 64) and creates nothing', async () => {
    const env = { REDIS_URL: redis.url, QUEUE_PREFIX: app.deps.config.QUEUE_PREFIX };
    expect((await apiKeyCli(['create', 'x', '--scopes', 'jobs:everything'], env)).code).toBe(64);
    expect((await apiKeyCli(['create'], env)).code).toBe(64);
    expect((await apiKeyCli(['list'], env)).stdout).toContain('No API keys yet');
  });
});
