import path from 'node:path';
import { localDataDir, removeLocalRedisUrl, writeLocalRedisUrl } from '../cli/local-redis-url';
import { DEV_SERVICES, type DevService } from './dev-services';
import { startEmbeddedRedis, type EmbeddedRedis } from './embedded-redis';
import { readProcfile } from './procfile';
import { acquireStartLock, loadStartConfig, lockedMessage, startConflicts } from './start-preflight';
import { stopAll, supervise, type Supervised } from './supervisor';
import { waitForHttp } from './wait-for-http';

const root = path.resolve(__dirname, '..', '..');
const dataDir = localDataDir(root);

function say(line: string): void {
  process.stdout.write(`[hooklane] ${line}\n`);
}

/** A directory as the developer knows it: relative inside the checkout (`.data/redis`), absolute elsewhere. */
function shownDir(dir: string): string {
  return dir.startsWith(root + path.sep) ? path.relative(root, dir) : dir;
}

/** Stops before anything starts when another program has the port or another npm start has the data. */
async function refuseConflicts(env: NodeJS.ProcessEnv, port: number, host: string): Promise<(() => void) | undefined> {
  const embeddedRedis = !env.REDIS_URL;
  const problems = await startConflicts({ port, host, dataDir, embeddedRedis, displayDir: shownDir });
  if (problems.length === 0 && embeddedRedis) {
    const lock = acquireStartLock(dataDir);
    if ('heldBy' in lock) problems.push(lockedMessage(lock.heldBy, shownDir(path.join(dataDir, 'redis'))));
    else return lock.release;
  }
  if (problems.length) {
    for (const problem of problems) process.stderr.write(`[hooklane] ${problem}\n`);
    process.exit(1);
  }
  return undefined;
}

/**
 * `npm start`: the whole product on embedded defaults. An embedded Redis (unless REDIS_URL is set),
 * local emulators for what cannot run here, then every Procfile process type.
 */
async function main(): Promise<void> {
  if (process.env.NODE_ENV === 'production') {
    throw new Error('npm start runs local emulators and is refused with NODE_ENV=production; run the Procfile types');
  }
  const { PORT: port, HOST: host } = loadStartConfig(process.env);
  const publicUrl = `http://localhost:${port}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(port),
    NODE_ENV: process.env.NODE_ENV || 'development',
    // Only here, where the emulators run, does the web process mount /dev (the dev Stripe Dashboard).
    DEV_ROUTES: 'true',
  };
  const releaseLock = await refuseConflicts(env, port, host);
  if (releaseLock) process.on('exit', releaseLock);

  let redis: EmbeddedRedis | undefined;
  if (!env.REDIS_URL) {
    const redisOptions = { dataDir: path.join(dataDir, 'redis'), ownProcessGroup: true };
    redis = await startEmbeddedRedis({ ...redisOptions, port: Number(env.REDIS_PORT ?? 0) || 6379 }).catch(
      () => startEmbeddedRedis(redisOptions),
    );
    env.REDIS_URL = redis.url;
    // For `npm run api-key` and other tools run beside us: they find this Redis with zero flags.
    writeLocalRedisUrl(dataDir, redis.url);
    say(`embedded Redis on ${redis.url} (pid ${redis.process.pid}, data in ${path.relative(root, dataDir) || '.'}/redis, AOF on, noeviction)`);
  } else {
    say('using REDIS_URL from the environment; no embedded Redis');
  }

  const services: DevService[] = [];
  const banner: string[] = [];
  for (const start of DEV_SERVICES) {
    const service = await start({ env, dataDir, publicUrl });
    if (!service) continue;
    services.push(service);
    Object.assign(env, service.env);
    banner.push(...service.banner);
  }

  const processes: Supervised[] = readProcfile(path.join(root, 'Procfile')).map((type) =>
    supervise(type.name, type.argv, env, root),
  );

  let stopping = false;
  const shutdown = async (reason: string, code: number) => {
    if (stopping) return;
    stopping = true;
    say(`stopping (${reason})...`);
    await stopAll(processes);
    await Promise.allSettled(services.map((s) => s.stop()));
    await redis?.stop();
    if (redis) removeLocalRedisUrl(dataDir);
    say('stopped');
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown('SIGINT', 0));
  process.on('SIGTERM', () => void shutdown('SIGTERM', 0));
  for (const p of processes) {
    void p.exited.then(({ code, signal }) => {
      // 78 (EX_CONFIG) passes through, so scripts can tell a configuration error from a crash.
      if (!stopping) void shutdown(`${p.name} exited with ${code ?? signal}`, code === 78 ? 78 : 1);
    });
  }

  await waitForHttp(`http://127.0.0.1:${port}/readyz`, { timeoutMs: 60_000 });
  // Only our own web process counts as up: an answer while one of ours has exited came from someone else.
  if (stopping || processes.some((p) => p.child.exitCode !== null || p.child.signalCode !== null)) return;
  say(`started ${processes.map((p) => `${p.name} (pid ${p.child.pid})`).join(', ')}`);
  for (const line of banner) say(line);
  say('jobs API keys: npm run api-key -- create <name>  (or the console\'s API keys page)');
  say(`hooklane is up at ${publicUrl}  (Ctrl-C stops everything)`);
}

main().catch((err: unknown) => {
  process.stderr.write(`[hooklane] failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
