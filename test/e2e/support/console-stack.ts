import { existsSync } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { ROOT, startWeb, startWorker, type RunningProcess, type WebProcess } from '../../support/processes';
import { startRedis, type TestRedis } from '../../support/redis';

export const ADMIN_TOKEN = 'e2e-admin-token-0123456789abcdef';
export const WEBHOOK_SECRET = 'whsec_e2e_console_0123456789abcdef';

export interface ConsoleStack {
  url: string;
  redis: TestRedis;
  web: WebProcess;
  worker: RunningProcess;
  env: NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

/** The built product as it runs: `node dist/web/main.js` + `node dist/worker/main.js` + a real Redis. */
export async function startConsoleStack(extraEnv: NodeJS.ProcessEnv = {}): Promise<ConsoleStack> {
  for (const built of ['dist/web/main.js', 'dist/worker/main.js', 'dist/public/index.html']) {
    if (!existsSync(path.join(ROOT, built))) throw new Error(`${built} is missing: run \`npm run build\` first`);
  }
  const redis = await startRedis({ appendOnly: false });
  const env: NodeJS.ProcessEnv = {
    REDIS_URL: redis.url,
    QUEUE_PREFIX: `e2e-${randomUUID().slice(0, 8)}`,
    ADMIN_TOKEN,
    // The browser polls every 2 s on several views; the limit is not what these tests exercise.
    ADMIN_RATE_LIMIT_PER_MINUTE: '100000',
    STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
    // One attempt, so `failUntilAttempt: 1` fails a job for good and a retry from the console then succeeds.
    JOB_ATTEMPTS: '1',
    JOB_BACKOFF_DELAY_MS: '100',
    WORKER_STALLED_INTERVAL_MS: '5000',
    WORKER_LOCK_DURATION_MS: '5000',
    WORKER_CONCURRENCY: '4',
    LOG_LEVEL: 'info',
    ...extraEnv,
  };
  const started: { kill(signal?: NodeJS.Signals): Promise<unknown> }[] = [];
  try {
    const web = await startWeb(env);
    started.push(web);
    const worker = await startWorker(env);
    started.push(worker);
    return {
      url: web.url,
      redis,
      web,
      worker,
      env,
      stop: async () => {
        await Promise.allSettled([web.kill(), worker.kill()]);
        await redis.destroy();
      },
    };
  } catch (err) {
    await Promise.allSettled(started.map((p) => p.kill('SIGKILL')));
    await redis.destroy();
    throw err;
  }
}
