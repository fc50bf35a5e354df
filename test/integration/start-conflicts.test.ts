import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '../../src/dev/embedded-redis';
import { ROOT, runNode } from '../support/processes';

let dataDir: string;
let blocker: Server | undefined;
beforeEach(() => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'hooklane-start-'));
});
afterEach(async () => {
  await new Promise<void>((resolve) => (blocker ? blocker.close(() => resolve()) : resolve()));
  blocker = undefined;
  rmSync(dataDir, { recursive: true, force: true });
});

/** Something else listening on a port, as another program (or another npm start) would. */
async function occupyPort(): Promise<number> {
  const port = await freePort();
  blocker = createServer();
  await new Promise<void>((resolve) => blocker!.listen(port, '0.0.0.0', resolve));
  return port;
}

describe('a second npm start', () => {
  test('on a port in use: stops before starting Redis, names the port and says to set PORT', async () => {
    const port = await occupyPort();
    const local = runNode('dist/dev/start-local.js', { PORT: String(port), REDIS_PORT: String(await freePort()), HOOKLANE_DATA_DIR: dataDir, NODE_ENV: 'development' });

    const exit = await local.exited;

    expect(exit.code).toBe(1);
    expect(local.output()).toMatch(new RegExp(`port ${port} is in use; set PORT=\\d+`));
    expect(local.output()).not.toContain('embedded Redis on');
    expect(local.output()).not.toContain('hooklane is up');
    expect(local.output()).not.toContain('EADDRINUSE');
  });

  test('in the same checkout (same data directory, another port): says another npm start uses its Redis data, and the first keeps running', async () => {
    const first = runNode('dist/dev/start-local.js', { PORT: String(await freePort()), REDIS_PORT: String(await freePort()), HOOKLANE_DATA_DIR: dataDir, NODE_ENV: 'development' });
    try {
      await first.waitForOutput('hooklane is up', 90_000);
      const second = runNode('dist/dev/start-local.js', { PORT: String(await freePort()), REDIS_PORT: String(await freePort()), HOOKLANE_DATA_DIR: dataDir, NODE_ENV: 'development' });

      const exit = await second.exited;

      expect(exit.code).toBe(1);
      expect(second.output()).toContain(`another npm start (pid ${first.child.pid}) uses ${path.join(dataDir, 'redis')}`);
      expect(second.output()).not.toContain('embedded Redis on');
      expect(second.output()).not.toContain('hooklane is up');
      expect(first.child.exitCode).toBeNull();
    } finally {
      await first.kill('SIGTERM');
    }
  });

  test('npm start (scripts/start.mjs) on a port in use stops before building anything', async () => {
    const port = await occupyPort();
    const child = spawn(process.execPath, [path.join(ROOT, 'scripts/start.mjs')], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, PORT: String(port), HOOKLANE_DATA_DIR: dataDir, NODE_ENV: 'development' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));

    expect(code).toBe(1);
    expect(output).toContain(`port ${port} is in use; set PORT=`);
    expect(output).not.toMatch(/built in|vite|tsc/);
  });
});

describe('npm start with a bad configuration', () => {
  test('PORT=abc: stops with status 78 before starting Redis, reporting PORT once and nothing derived from it', async () => {
    const local = runNode('dist/dev/start-local.js', { PORT: 'abc', HOOKLANE_DATA_DIR: dataDir, NODE_ENV: 'development' });

    const exit = await local.exited;

    expect(exit.code).toBe(78);
    expect(local.output().match(/PORT: /g)).toHaveLength(1);
    expect(local.output()).not.toMatch(/STRIPE_REDIRECT_URL|OAUTH_REDIRECT_URI/);
    expect(local.output()).not.toContain('embedded Redis on');
  });

  test('npm start (scripts/start.mjs) with WORKER_SANDBOX=fork stops with status 78 before building anything', async () => {
    const child = spawn(process.execPath, [path.join(ROOT, 'scripts/start.mjs')], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, PORT: String(await freePort()), WORKER_SANDBOX: 'fork', HOOKLANE_DATA_DIR: dataDir, NODE_ENV: 'development' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));

    expect(code).toBe(78);
    expect(output).toContain('WORKER_SANDBOX');
    expect(output).not.toMatch(/built in|vite|tsc/);
  });
});
