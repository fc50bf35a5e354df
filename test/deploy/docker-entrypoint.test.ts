import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { repoRoot } from './repo-artifacts';

const entrypoint = path.join(repoRoot, 'scripts/docker-entrypoint.sh');

/** Runs the image's entrypoint with /bin/sh, as the container does, against a stand-in Procfile. */
function runEntrypoint(...args: string[]) {
  const dir = mkdtempSync(path.join(tmpdir(), 'hooklane-entry-'));
  writeFileSync(
    path.join(dir, 'Procfile'),
    'web: echo "web on $PORT as $HOOKLANE_PROCESS_TYPE"\nworker: echo "worker as $HOOKLANE_PROCESS_TYPE"\n',
  );
  return spawnSync('sh', [entrypoint, ...args], { cwd: dir, env: { PATH: process.env.PATH, PORT: '3000' }, encoding: 'utf8' });
}

describe('docker-entrypoint.sh', () => {
  it('starts the web process type by default', () => {
    const result = runEntrypoint();
    expect(result.status).toBe(0);
    expect(result.stdout.trim()).toBe('web on 3000 as web');
  });

  it('starts the process type named by its argument', () => {
    expect(runEntrypoint('worker').stdout.trim()).toBe('worker as worker');
  });

  it('refuses a type the Procfile does not define, naming the ones it does', () => {
    const result = runEntrypoint('scheduler');
    expect(result.status).toBe(64);
    expect(result.stderr).toMatch(/unknown process type 'scheduler'; Procfile defines: web worker/);
  });

  it('refuses a type that is not a plain name, so nothing reaches sed or eval', () => {
    const result = runEntrypoint('web;touch /tmp/x');
    expect(result.status).toBe(64);
    expect(result.stdout).toBe('');
  });
});

describe('docker-healthcheck.js (web)', () => {
  let server: Server;
  let status = 200;
  beforeAll(async () => {
    server = createServer((req, res) => {
      res.statusCode = req.url === '/healthz' ? status : 404;
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  // Asynchronous: the server answering the check lives in this process.
  const check = () =>
    new Promise<number | null>((resolve) => {
      const child = spawn(process.execPath, [path.join(repoRoot, 'scripts/docker-healthcheck.js')], {
        env: { PATH: process.env.PATH, PORT: String((server.address() as AddressInfo).port) },
        stdio: 'ignore',
      });
      child.on('exit', resolve);
    });

  it('is healthy while /healthz answers 200', async () => {
    status = 200;
    expect(await check()).toBe(0);
  });

  it('is unhealthy when /healthz fails', async () => {
    status = 500;
    expect(await check()).toBe(1);
  });
});
