import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { freePort } from '../../src/dev/embedded-redis';
import { waitForHttp } from '../../src/dev/wait-for-http';
import { startRedis, type TestRedis } from '../support/redis';
import { replayDockerfile, type ReplayedImage } from './dockerfile-replay';

// No Docker engine runs here, so the image is proven by replaying its Dockerfile stage by stage
// (see dockerfile-replay.ts) and starting the result as the container would.

let workDir: string;
let image: ReplayedImage;
let redis: TestRedis;

beforeAll(async () => {
  // Two full `npm ci` runs and a build: minutes on a busy 2-core machine, well under that on a quiet one.
  workDir = mkdtempSync(path.join(tmpdir(), 'hooklane-image-'));
  image = replayDockerfile(workDir);
  redis = await startRedis();
}, 300_000);

afterAll(async () => {
  await redis?.destroy();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

describe('the Dockerfile, replayed', () => {
  it('yields a runtime /app with the compiled server, the console and production dependencies only', () => {
    for (const file of ['dist/web/main.js', 'dist/worker/main.js', 'dist/public/index.html', 'Procfile', 'scripts/docker-entrypoint.sh', 'node_modules/bullmq']) {
      expect({ file, present: existsSync(path.join(image.appDir, file)) }).toEqual({ file, present: true });
    }
    for (const file of ['src', 'node_modules/typescript', 'node_modules/jest', 'node_modules/vite', 'tsconfig.json']) {
      expect({ file, present: existsSync(path.join(image.appDir, file)) }).toEqual({ file, present: false });
    }
    expect(image.env).toMatchObject({ NODE_ENV: 'production', PORT: '3000' });
  });

  it('starts the web process from its default command and answers /readyz', async () => {
    expect(image.cmd).toEqual(['web']);
    const port = await freePort();
    // ENTRYPOINT minus tini (PID 1 duties are the container's, not this test's).
    const [, , script] = image.entrypoint;
    const child = spawn('sh', [path.join(image.appDir, path.posix.relative('/app', script!)), ...image.cmd], {
      cwd: image.appDir,
      env: { PATH: process.env.PATH, ...image.env, PORT: String(port), HOST: '127.0.0.1', NODE_ENV: 'test', REDIS_URL: redis.url },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      await waitForHttp(`http://127.0.0.1:${port}/readyz`, { timeoutMs: 30_000 });
    } catch (err) {
      child.kill('SIGKILL');
      throw new Error(`${(err as Error).message}\n${output}`);
    }
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 60_000);
});
