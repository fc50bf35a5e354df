import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '../../src/dev/embedded-redis';
import { alive, ROOT, runNode } from '../support/processes';

/**
 * What a user runs next to `npm start`: the built `npm run api-key -- create`, with no REDIS_URL (it finds
 * the embedded Redis through the data directory). Returns the printed key.
 */
function createKeyBesideNpmStart(dataDir: string): string {
  const run = spawnSync(process.execPath, [path.join(ROOT, 'dist/cli/api-key.js'), 'create', 'start-local test'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOOKLANE_DATA_DIR: dataDir },
    encoding: 'utf8',
    timeout: 30_000,
  });
  const key = /hl_[0-9a-f]{16}_[0-9a-f]{64}/.exec(run.stdout)?.[0];
  if (run.status !== 0 || !key) throw new Error(`api-key create failed (${run.status}): ${run.stdout}${run.stderr}`);
  return key;
}

describe('npm start (dist/dev/start-local.js)', () => {
  test('brings up Redis, web and worker, prints the URL and the console\'s working admin token, and SIGTERM leaves no process behind', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'hooklane-start-'));
    const port = await freePort();
    const redisPort = await freePort();
    const local = runNode('dist/dev/start-local.js', {
      PORT: String(port),
      REDIS_PORT: String(redisPort),
      HOOKLANE_DATA_DIR: dataDir,
      NODE_ENV: 'development',
    });
    try {
      await local.waitForOutput(`hooklane is up at http://localhost:${port}`, 90_000);
      const out = local.output();
      expect(out).toContain(`embedded Redis on redis://127.0.0.1:${redisPort}`);
      const pids = [...out.matchAll(/pid (\d+)/g)].map((m) => Number(m[1]));
      expect(pids.length).toBeGreaterThanOrEqual(3);

      const res = await fetch(`http://127.0.0.1:${port}/api/jobs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${createKeyBesideNpmStart(dataDir)}` },
        body: '{"steps":1}',
      });
      expect(res.status).toBe(202);
      // npm start's supervisor (and only it) mounts the dev Stripe Dashboard.
      expect((await fetch(`http://127.0.0.1:${port}/dev/dashboard`)).status).toBe(200);

      const adminToken = /console: http:\/\/localhost:\d+ \(token (\S+)\)/.exec(out)?.[1];
      expect(adminToken).toBeDefined();
      const session = await fetch(`http://127.0.0.1:${port}/api/admin/session`, { headers: { authorization: `Bearer ${adminToken}` } });
      expect(session.status).toBe(200);

      const exit = await local.kill('SIGTERM');
      expect(exit.code).toBe(0);
      expect(pids.filter(alive)).toEqual([]);
      // A stopped npm start leaves no Redis URL behind for the tools to find.
      expect(existsSync(path.join(dataDir, 'redis-url'))).toBe(false);
    } finally {
      await local.kill('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test('Ctrl-C (SIGINT to the whole process group) with a job in flight: the job finishes before Redis stops', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'hooklane-start-'));
    const port = await freePort();
    // Its own process group, like a terminal's foreground job, so the group signal does not reach jest.
    const child = spawn(process.execPath, [path.join(ROOT, 'dist/dev/start-local.js')], {
      cwd: ROOT,
      detached: true,
      env: { PATH: process.env.PATH, NODE_ENV: 'development', LOG_LEVEL: 'info', PORT: String(port), REDIS_PORT: String(await freePort()), HOOKLANE_DATA_DIR: dataDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const deadline = Date.now() + 90_000;
      while (!output.includes('hooklane is up at') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      const pids = [...output.matchAll(/pid (\d+)/g)].map((m) => Number(m[1]));
      const res = await fetch(`http://127.0.0.1:${port}/api/jobs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${createKeyBesideNpmStart(dataDir)}` },
        body: '{"steps":3,"stepMs":300}',
      });
      expect(res.status).toBe(202);
      const jobStarted = Date.now() + 10_000;
      while (!output.includes('"jobId"') && Date.now() < jobStarted) await new Promise((r) => setTimeout(r, 20));
      process.kill(-child.pid!, 'SIGINT');
      expect(await exited).toBe(0);
      expect(output).not.toContain('shutdown step failed');
      expect(output).not.toContain('ECONNREFUSED');
      expect(pids.filter(alive)).toEqual([]);
    } finally {
      if (child.exitCode === null) process.kill(-child.pid!, 'SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test('is refused with NODE_ENV=production', async () => {
    const local = runNode('dist/dev/start-local.js', { NODE_ENV: 'production' });
    const exit = await local.exited;
    expect(exit.code).toBe(1);
    expect(local.output()).toContain('refused with NODE_ENV=production');
  });
});
