import path from 'node:path';
import { localDataDir, removeLocalRedisUrl, writeLocalRedisUrl } from '../cli/local-redis-url';
import { DEV_SERVICES, type DevService } from './dev-services';
import { startEmbeddedRedis, type EmbeddedRedis } from './embedded-redis';
import { readProcfile } from './procfile';
import { stopAll, supervise, type Supervised } from './supervisor';
import { waitForHttp } from './wait-for-http';

const root = path.resolve(__dirname, '..', '..');
// HOOKLANE_DATA_DIR lets tests keep their data away from a developer's own .data/.
const dataDir = localDataDir(root);

function say(line: string): void {
  process.stdout.write(`[hooklane] ${line}\n`);
}

/**
 * `npm start`: the whole product on embedded defaults. An embedded Redis (unless REDIS_URL is set),
 * local emulators for what cannot run here, then every Procfile process type.
 */
async function main(): Promise<void> {
  if (process.env.NODE_ENV === 'production') {
    throw new Error('npm start runs local emulators and is refused with NODE_ENV=production; run the Procfile types');
  }
  const port = Number(process.env.PORT ?? 3000);
  const publicUrl = `http://localhost:${port}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(port),
    NODE_ENV: process.env.NODE_ENV ?? 'development',
    // Only here, where the emulators run, does the web process mount /dev (the dev Stripe Dashboard).
    DEV_ROUTES: 'true',
  };

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
      if (!stopping) void shutdown(`${p.name} exited with ${code ?? signal}`, 1);
    });
  }

  await waitForHttp(`http://127.0.0.1:${port}/readyz`, { timeoutMs: 60_000 });
  say(`started ${processes.map((p) => `${p.name} (pid ${p.child.pid})`).join(', ')}`);
  for (const line of banner) say(line);
  say('jobs API keys: npm run api-key -- create <name>  (or the console\'s API keys page)');
  say(`hooklane is up at ${publicUrl}  (Ctrl-C stops everything)`);
}

main().catch((err: unknown) => {
  process.stderr.write(`[hooklane] failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
