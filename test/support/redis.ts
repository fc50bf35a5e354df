import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis as IORedis } from 'ioredis';
import { startEmbeddedRedis, type EmbeddedRedis } from '../../src/dev/embedded-redis';

export interface TestRedis {
  url: string;
  port: number;
  /** Stops the server (AOF is flushed) and keeps its data directory. */
  stop(): Promise<void>;
  /** Starts it again on the same port and data directory: what an outage looks like to clients. */
  start(): Promise<void>;
  /** Stops it and removes its data. */
  destroy(): Promise<void>;
}

/** A real redis-server on a free loopback port, with its own data directory. */
export async function startRedis(options: { appendOnly?: boolean; extraArgs?: string[] } = {}): Promise<TestRedis> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'hooklane-redis-'));
  let server: EmbeddedRedis | undefined = await startEmbeddedRedis({ dataDir, ...options });
  const port = server.port;
  return {
    url: server.url,
    port,
    stop: async () => {
      await server?.stop();
      server = undefined;
    },
    start: async () => {
      server = await startEmbeddedRedis({ dataDir, port, ...options });
    },
    destroy: async () => {
      await server?.stop();
      server = undefined;
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface FullRedis {
  /** Deletes the filler (DEL works under OOM), which takes Redis back under its maxmemory. */
  free(): Promise<void>;
}

/**
 * Makes a noeviction Redis full, as production's ElastiCache gets full: ~1 MB of filler keys is written,
 * then maxmemory is set below what is used, so every write (INCR, SET, a script that writes) answers OOM
 * while reads and DEL still work. The margin is wide enough that connections coming and going (their
 * buffers count as used memory) do not take it back under.
 */
export async function fillToMaxmemory(redisUrl: string, fillerBytes = 1024 * 1024): Promise<FullRedis> {
  const client = new IORedis(redisUrl, { maxRetriesPerRequest: 1 });
  const filler = 'x'.repeat(64 * 1024);
  const keys = Array.from({ length: Math.ceil(fillerBytes / filler.length) }, (_, i) => `filler:${i}`);
  try {
    await client.config('SET', 'maxmemory', '0');
    for (const key of keys) await client.set(key, filler);
    const used = Number(/used_memory:(\d+)/.exec(await client.info('memory'))?.[1]);
    await client.config('SET', 'maxmemory', String(used - Math.floor(fillerBytes / 4)));
    const probe = await client.incr('filler:probe').then(
      () => 'stored',
      (err: Error) => err.message,
    );
    if (!/^OOM/.test(probe)) throw new Error(`Redis still accepts writes after filling it: ${probe}`);
  } finally {
    client.disconnect();
  }
  return {
    free: async () => {
      const freer = new IORedis(redisUrl, { maxRetriesPerRequest: 1 });
      try {
        await freer.del(...keys);
      } finally {
        freer.disconnect();
      }
    },
  };
}

/** A real Redis for the enclosing `describe` and one client on it, started before its tests and removed after. */
export interface RedisForTests {
  readonly server: TestRedis;
  /** A client with BullMQ's required `maxRetriesPerRequest: null`. */
  readonly redis: IORedis;
}

/** Starts a Redis (no AOF) in `beforeAll` and destroys it in `afterAll`; read `server`/`redis` inside the tests. */
export function useRedis(): RedisForTests {
  let server: TestRedis | undefined;
  let redis: IORedis | undefined;
  beforeAll(async () => {
    server = await startRedis({ appendOnly: false });
    redis = new IORedis(server.url, { maxRetriesPerRequest: null });
  });
  afterAll(async () => {
    redis?.disconnect();
    await server?.destroy();
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('useRedis: read server/redis inside a test or hook, after beforeAll');
    return value;
  };
  return {
    get server() {
      return started(server);
    },
    get redis() {
      return started(redis);
    },
  };
}
