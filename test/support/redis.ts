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

/**
 * Fills a noeviction Redis to its maxmemory, as production's ElastiCache fills: maxmemory is set a little
 * above what is used now, then filler keys are written until Redis answers OOM. Returns the filler keys'
 * names, so a test can free memory again by deleting them (DEL works under OOM).
 */
export async function fillToMaxmemory(redisUrl: string, headroomBytes = 2 * 1024 * 1024): Promise<string[]> {
  const client = new IORedis(redisUrl, { maxRetriesPerRequest: 1 });
  try {
    const used = Number(/used_memory:(\d+)/.exec(await client.info('memory'))?.[1]);
    await client.config('SET', 'maxmemory', String(used + headroomBytes));
    const filler = 'x'.repeat(64 * 1024);
    const keys: string[] = [];
    for (let i = 0; i < 10_000; i += 1) {
      const key = `filler:${i}`;
      try {
        await client.set(key, filler);
      } catch (err) {
        if (/OOM/.test((err as Error).message)) return keys;
        throw err;
      }
      keys.push(key);
    }
    throw new Error('Redis never reached its maxmemory');
  } finally {
    client.disconnect();
  }
}
