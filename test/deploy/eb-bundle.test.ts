import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { freePort } from '../../src/dev/embedded-redis';
import { waitForHttp } from '../../src/dev/wait-for-http';
import { readProcfile } from '../../scripts/build-bundle/procfile';
import { writeBundle, type Bundle } from '../../scripts/build-bundle/write-bundle';
import { startRedis, type TestRedis } from '../support/redis';
import { postJob, waitForJob } from '../support/processes';
import { PRODUCTION_ENV } from './production-env';
import { repoRoot } from './repo-artifacts';

// Runs the bundle the way Elastic Beanstalk does: unzip it into an empty directory, install
// production dependencies only, and start every Procfile process type with PORT set, with the
// environment EB gives it in production (the AUTH token in REDIS_PASSWORD, not in the URL).
// Uses the dist/ that `npm test` builds first (scripts/test.mjs).

const AUTH_TOKEN = 'test-auth-token-0123456789abcdef';
const productionEnv = { ...PRODUCTION_ENV, LOG_LEVEL: 'info', HOST: '127.0.0.1' };

interface Started {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

let workDir: string;
let bundle: Bundle;
let appDir: string;
let redis: TestRedis;
const started: Started[] = [];

beforeAll(async () => {
  workDir = mkdtempSync(path.join(tmpdir(), 'hooklane-bundle-'));
  bundle = await writeBundle(repoRoot, workDir);
  appDir = path.join(workDir, 'app');
  const unzip = spawnSync('unzip', ['-q', bundle.zipPath, '-d', appDir], { encoding: 'utf8' });
  if (unzip.status !== 0) throw new Error(`unzip failed: ${unzip.stderr}`);
  // What the Dockerfile's prod-deps stage runs (EB's Node.js platform would run npm install --omit=dev).
  const install = spawnSync('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline'], {
    cwd: appDir,
    encoding: 'utf8',
    env: { ...process.env, NODE_ENV: 'production' },
  });
  if (install.status !== 0) throw new Error(`npm ci --omit=dev failed:\n${install.stderr}`);
  redis = await startRedis({ extraArgs: ['--requirepass', AUTH_TOKEN] });
}, 120_000);

afterAll(async () => {
  for (const p of started) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  await redis?.destroy();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

/** Starts a process type through the image's entrypoint script, from the unpacked bundle. */
function startProcessType(type: string, env: Record<string, string>): Started {
  const child = spawn('sh', ['scripts/docker-entrypoint.sh', type], {
    cwd: appDir,
    env: { PATH: process.env.PATH, ...productionEnv, REDIS_URL: redis.url, REDIS_PASSWORD: AUTH_TOKEN, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const p = { child, output: () => output, exited };
  started.push(p);
  return p;
}

describe('the Elastic Beanstalk bundle', () => {
  it('holds the deployment files at its root and nothing it must not ship', () => {
    expect(bundle.files).toEqual(expect.arrayContaining(['docker-compose.yml', 'Dockerfile', 'Procfile', '.ebextensions/01-health.config', 'dist/web/main.js', 'dist/worker/main.js', 'package-lock.json']));
    expect(bundle.files.filter((f) => /^(\.env|test\/|infra\/|node_modules\/|\.git\/|bench\/|stripe-app\/)/.test(f))).toEqual([]);
    expect(statSync(path.join(appDir, 'scripts/docker-entrypoint.sh')).mode & 0o111).not.toBe(0);
  });

  it('is the same zip for the same files', async () => {
    // Re-bundled from the first bundle's staging copy: the same files, whatever happens to dist/ meanwhile.
    const again = await writeBundle(bundle.stagingDir, mkdtempSync(path.join(workDir, 'again-')));
    expect(readFileSync(again.zipPath).equals(readFileSync(bundle.zipPath))).toBe(true);
  });

  it('runs every Procfile process type from the unpacked bundle: /readyz is 200 and a job is processed', async () => {
    const types = readProcfile(path.join(appDir, 'Procfile')).map((p) => p.name);
    expect(types).toEqual(['web', 'worker']);
    const port = await freePort();
    const web = startProcessType('web', { PORT: String(port) });
    const worker = startProcessType('worker', { PORT: String(await freePort()) });
    const url = `http://127.0.0.1:${port}`;
    try {
      await waitForHttp(`${url}/readyz`, { timeoutMs: 30_000 });
    } catch (err) {
      throw new Error(`${(err as Error).message}\nweb:\n${web.output()}`);
    }

    // The key comes from the bundle's own CLI, as an operator makes one on an instance (no tsx, prod deps only).
    const cli = spawnSync(process.execPath, ['dist/cli/api-key.js', 'create', 'bundle test'], {
      cwd: appDir,
      env: { PATH: process.env.PATH, REDIS_URL: redis.url, REDIS_PASSWORD: AUTH_TOKEN },
      encoding: 'utf8',
      timeout: 30_000,
    });
    const apiKey = /hl_[0-9a-f]{16}_[0-9a-f]{64}/.exec(cli.stdout)?.[0];
    if (cli.status !== 0 || !apiKey) throw new Error(`node dist/cli/api-key.js create failed (${cli.status}): ${cli.stdout}${cli.stderr}`);
    const api = { url, apiKey };
    const jobId = await postJob(api, { steps: 2 });
    const job = await waitForJob(api, jobId, (j) => j.state === 'completed', 30_000).catch((err: Error) => {
      throw new Error(`${err.message}\nworker:\n${worker.output()}`);
    });
    expect(job.state).toBe('completed');

    // EB stops containers with SIGTERM: both drain and exit cleanly.
    web.child.kill('SIGTERM');
    worker.child.kill('SIGTERM');
    expect(await web.exited).toBe(0);
    expect(await worker.exited).toBe(0);
  }, 90_000);
});
