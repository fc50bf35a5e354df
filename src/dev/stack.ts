import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort, startEmbeddedRedis, type EmbeddedRedis } from './embedded-redis';
import { readProcfile, type ProcessType } from './procfile';
import { startHaproxy, type RunningHaproxy } from './stack-haproxy';
import { startSlot, type StackInstance } from './stack-slot';
import { waitForHttp } from './wait-for-http';

export type { StackExit, StackInstance } from './stack-slot';

/** The repository root: the nearest folder above this file with a Procfile (dist/dev, build/src/dev, src/dev). */
function findRoot(dir = __dirname): string {
  if (existsSync(path.join(dir, 'Procfile'))) return dir;
  const parent = path.dirname(dir);
  if (parent === dir) throw new Error('no Procfile above ' + __dirname);
  return findRoot(parent);
}
const ROOT = findRoot();

export interface StackOptions {
  web: number;
  worker: number;
  /** Front (load balancer) port; 0 picks a free one. */
  port?: number;
  /** Extra env for every web and worker process (e.g. shorter stalled-job timings for the fault suite). */
  env?: Record<string, string>;
  /** Extra env for the workers only, over `env` (e.g. the Stripe API emulator the workers fetch from). */
  workerEnv?: Record<string, string>;
  /** Start a replacement when an instance dies, as Elastic Beanstalk replaces an unhealthy instance. */
  respawn?: boolean;
  checkIntervalMs?: number;
  checkTimeoutMs?: number;
  /** stop() keeps `dir/logs` (for a person reading them afterwards); the rest of `dir` goes. */
  keepLogs?: boolean;
}

export interface StackRedis {
  url: string;
  port: number;
  stop(): Promise<void>;
  start(): Promise<void>;
}

export interface Stack {
  url: string;
  statsUrl: string;
  dir: string;
  redis: StackRedis;
  web: StackInstance[];
  worker: StackInstance[];
  haproxy: RunningHaproxy;
  stop(): Promise<void>;
}

function processTypes(): Record<'web' | 'worker', ProcessType> {
  const types = readProcfile(path.join(ROOT, 'Procfile'));
  const byName = (name: string) => {
    const found = types.find((t) => t.name === name);
    if (!found) throw new Error(`Procfile has no "${name}" process type`);
    return found;
  };
  return { web: byName('web'), worker: byName('worker') };
}

/**
 * Starts N web and M worker processes (the Procfile's types), one Redis with AOF on, and HAProxy in front
 * configured like the ALB. Everything listens on 127.0.0.1 only; logs go to files under `dir`.
 */
export async function startStack(options: StackOptions): Promise<Stack> {
  const dir = mkdtempSync(path.join(tmpdir(), 'hooklane-stack-'));
  const logDir = path.join(dir, 'logs');
  mkdirSync(logDir);
  let redisServer: EmbeddedRedis | undefined = await startEmbeddedRedis({ dataDir: path.join(dir, 'redis'), ownProcessGroup: true });
  const redisPort = redisServer.port;
  const redis: StackRedis = {
    url: redisServer.url,
    port: redisPort,
    stop: async () => {
      await redisServer?.stop();
      redisServer = undefined;
    },
    start: async () => {
      redisServer = await startEmbeddedRedis({ dataDir: path.join(dir, 'redis'), port: redisPort, ownProcessGroup: true });
    },
  };
  const types = processTypes();
  const baseEnv: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: process.env.NODE_ENV === 'production' ? 'development' : (process.env.NODE_ENV ?? 'development'),
    REDIS_URL: redis.url,
    HOST: '127.0.0.1',
    ...options.env,
  };
  let running = true;
  const respawn = () => running && options.respawn !== false;
  const webPorts = await Promise.all(Array.from({ length: options.web }, () => freePort()));
  const web = webPorts.map((port, i) =>
    startSlot({
      name: `web${i + 1}`,
      type: 'web',
      argv: types.web.argv,
      cwd: ROOT,
      env: { ...baseEnv, PORT: String(port) },
      port,
      logFile: path.join(logDir, `web${i + 1}.log`),
      respawn,
    }),
  );
  const worker = Array.from({ length: options.worker }, (_, i) =>
    startSlot({
      name: `worker${i + 1}`,
      type: 'worker',
      argv: types.worker.argv,
      cwd: ROOT,
      env: { ...baseEnv, ...options.workerEnv },
      logFile: path.join(logDir, `worker${i + 1}.log`),
      respawn,
    }),
  );
  let frontPort = options.port;
  let statsPort = 0;
  const haproxyLog = openSync(path.join(logDir, 'haproxy.log'), 'a');
  const stopAllProcesses = async () => {
    running = false;
    await haproxy?.stop();
    await Promise.allSettled([...web, ...worker].map((i) => i.stop()));
    await redis.stop();
    closeSync(haproxyLog);
  };
  let haproxy: RunningHaproxy | undefined;
  try {
    await Promise.all(web.map((w) => waitForHttp(`http://127.0.0.1:${w.port}/readyz`, { timeoutMs: 60_000 })));
    // Free ports are picked just before HAProxy binds them, and picked again if another process took one in
    // between (HAProxy then exits at start): a port found free is only free until someone binds it.
    for (let attempt = 1; !haproxy; attempt += 1) {
      frontPort = options.port || (await freePort());
      statsPort = await freePort();
      try {
        haproxy = await startHaproxy(
          {
            dir,
            frontPort,
            statsPort,
            backends: web.map((w) => ({ name: w.name, port: w.port! })),
            ...(options.checkIntervalMs ? { checkIntervalMs: options.checkIntervalMs } : {}),
            ...(options.checkTimeoutMs ? { checkTimeoutMs: options.checkTimeoutMs } : {}),
          },
          haproxyLog,
        );
      } catch (err) {
        if (attempt >= 3 || !/exited with .* at start/.test((err as Error).message)) throw err;
      }
    }
    await waitForHttp(`http://127.0.0.1:${frontPort}/readyz`, { timeoutMs: 30_000 });
  } catch (err) {
    await stopAllProcesses();
    throw err;
  }
  const runningHaproxy = haproxy;
  return {
    url: `http://127.0.0.1:${frontPort}`,
    statsUrl: `http://127.0.0.1:${statsPort}/`,
    dir,
    redis,
    web,
    worker,
    haproxy: runningHaproxy,
    stop: async () => {
      await stopAllProcesses();
      if (process.env.HOOKLANE_KEEP_STACK_DIR) return;
      if (!options.keepLogs) {
        rmSync(dir, { recursive: true, force: true });
        return;
      }
      for (const entry of readdirSync(dir)) if (entry !== 'logs') rmSync(path.join(dir, entry), { recursive: true, force: true });
    },
  };
}
