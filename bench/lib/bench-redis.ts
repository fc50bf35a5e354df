import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { Redis } from 'ioredis';
import { startEmbeddedRedis, type EmbeddedRedis } from '../../src/dev/embedded-redis';

export interface BenchRedis {
  url: string;
  client: Redis;
  flush(): Promise<void>;
  usedMemory(): Promise<number>;
  /** CPU Redis has used so far (used_cpu_user + used_cpu_sys), in µs. */
  cpuMicros(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * Redis as production runs it (AOF everysec, noeviction), started by the bench itself. By default it
 * inherits the load generator's core: on this machine it stands in for ElastiCache, which is another host.
 * With `cpu` (bench --redis-core server) every Redis thread is moved to that core instead.
 */
export async function startBenchRedis(cpu?: string): Promise<BenchRedis> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'hooklane-bench-redis-'));
  const server: EmbeddedRedis = await startEmbeddedRedis({ dataDir });
  const client = new Redis(server.url, { maxRetriesPerRequest: null });
  if (cpu !== undefined) {
    const pid = /^process_id:(\d+)/m.exec(await client.info('server'))?.[1];
    if (!pid || spawnSync('taskset', ['-a', '-p', '-c', cpu, pid], { stdio: 'ignore' }).status !== 0) {
      throw new Error(`could not pin Redis (pid ${pid ?? 'unknown'}) to core ${cpu}`);
    }
  }
  return {
    url: server.url,
    client,
    flush: async () => {
      await client.flushall();
    },
    usedMemory: async () => {
      const info = await client.info('memory');
      return Number(/^used_memory:(\d+)/m.exec(info)?.[1] ?? 0);
    },
    cpuMicros: async () => {
      const info = await client.info('cpu');
      const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? 0);
      return (field('used_cpu_user') + field('used_cpu_sys')) * 1_000_000;
    },
    stop: async () => {
      client.disconnect();
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
