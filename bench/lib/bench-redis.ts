import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { Redis } from 'ioredis';
import { startEmbeddedRedis, type EmbeddedRedis } from '../../src/dev/embedded-redis';

export interface BenchRedis {
  url: string;
  client: Redis;
  /** Empties Redis and compacts its AOF, so that every measured run starts from the same state. */
  flush(): Promise<void>;
  usedMemory(): Promise<number>;
  /** CPU Redis has used so far (used_cpu_user + used_cpu_sys), in µs. */
  cpuMicros(): Promise<number>;
  stop(): Promise<void>;
}

async function waitForNoRewrite(client: Redis): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const info = await client.info('persistence');
    if (/^aof_rewrite_in_progress:0/m.test(info) && /^aof_rewrite_scheduled:0/m.test(info)) return;
    if (Date.now() > deadline) throw new Error('Redis was still rewriting its AOF after 2 minutes');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
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
  // No AOF rewrite starts by itself during a run; flush() compacts between runs. Nothing drains what a
  // scenario writes (the intake log grows by the 2 KB body of every accepted request: hundreds of MB a
  // run), so Redis forked to rewrite an ever larger dataset every few seconds, on the core it shares with
  // the load generator: up to 16 % of the fast path's rate (docs/numbers.md, "Benchmark"). Appends and fsyncs are
  // unchanged. On ElastiCache, which this Redis stands in for, no AOF rewrite runs.
  await client.config('SET', 'auto-aof-rewrite-percentage', '0');
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
      // A rewrite the previous run's writes started would go on in the background (a forked child on the
      // same core) into the next run, and the AOF it leaves behind decides when the next rewrite comes:
      // the run after a write-heavy one measured up to 20 % slower. Compacting the empty dataset here
      // takes milliseconds and leaves no child running.
      await waitForNoRewrite(client);
      await client.bgrewriteaof();
      await waitForNoRewrite(client);
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
