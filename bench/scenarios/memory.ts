import { freePort } from '../../src/dev/embedded-redis';
import type { BenchRedis } from '../lib/bench-redis';
import { runLoad } from '../lib/load';
import { startHttpServer, startNode } from '../lib/processes';
import { EventPool, signedEvents } from '../lib/signed-events';

export interface MemoryPoint {
  events: number;
  usedBytes: number;
  keys: number;
  retainedJobs: number;
}

export interface MemoryRow {
  events: number;
  retention: Record<string, string>;
  baselineBytes: number;
  points: MemoryPoint[];
  /** (used - baseline) / retained events, at the last point. */
  bytesPerRetainedEvent: number;
  /** Growth between the last two points, relative: near 0 once retention applies. */
  lastStepGrowth: number;
  /** At the last point: MEMORY USAGE summed by kind of key (ids and objects folded), per retained event. */
  parts?: { kind: string; bytesPerRetainedEvent: number }[];
}

/** A key's kind: the key with its event id, object id, hour and shard folded (`...:rec:<id>`). */
const kindOf = (key: string) =>
  key
    .replace(/evt_[A-Za-z0-9_-]+/g, '<id>')
    .replace(/:(cus|pi|ch|in|acct)_[A-Za-z0-9]+/g, ':<object>')
    .replace(/:\d+(?=:|$)/g, ':<n>');

/** Where the memory is: MEMORY USAGE of every key, summed by kind, per retained event. */
async function memoryByKind(client: BenchRedis['client'], retained: number): Promise<{ kind: string; bytesPerRetainedEvent: number }[]> {
  const sums = new Map<string, number>();
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'COUNT', 2000);
    cursor = next;
    const pipeline = client.pipeline();
    for (const key of keys) pipeline.memory('USAGE', key, 'SAMPLES', '0');
    const sizes = (await pipeline.exec()) ?? [];
    keys.forEach((key, i) => sums.set(kindOf(key), (sums.get(kindOf(key)) ?? 0) + (Number(sizes[i]?.[1]) || 0)));
  } while (cursor !== '0');
  return [...sums]
    .map(([kind, bytes]) => ({ kind, bytesPerRetainedEvent: Math.round(bytes / Math.max(1, retained)) }))
    .filter((p) => p.bytesPerRetainedEvent > 0)
    .sort((a, b) => b.bytesPerRetainedEvent - a.bytesPerRetainedEvent);
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Sends `events` unique events through a real web and worker in steps, and after each step (once the
 * worker has drained it) reads Redis's used_memory. With default retention (completed jobs: an hour, at
 * most JOB_REMOVE_COUNT_LIMIT; event index: EVENT_INDEX_MAX_EVENTS) memory must stop growing at the cap.
 */
export async function benchMemory(
  webScript: string,
  workerScript: string,
  env: Record<string, string>,
  redis: BenchRedis,
  plan: { events: number; steps: number; retention: Record<string, string> },
): Promise<MemoryRow> {
  await redis.flush();
  const prefix = 'hooklane';
  // Compact records (EVENT_RECORDS_COMPACT): what the next release writes by default, and what the bytes target is about.
  const fullEnv = { ...env, ...plan.retention, EVENT_RECORDS_COMPACT: 'true', REDIS_URL: redis.url, QUEUE_PREFIX: prefix };
  const web = await startHttpServer('memory-web', webScript, await freePort(), fullEnv, '/readyz');
  const worker = startNode('memory-worker', workerScript, fullEnv);
  try {
    await pause(1000);
    const baselineBytes = await redis.usedMemory();
    const points: MemoryPoint[] = [];
    const perStep = Math.ceil(plan.events / plan.steps);
    for (let step = 1; step <= plan.steps; step += 1) {
      const runId = `mem${step}${Date.now().toString(36)}`;
      const pool = new EventPool(signedEvents(perStep, { prefix: runId, type: 'customer.created', object: 'customer', objectPerEvent: true }), runId);
      const result = await runLoad(
        web.url,
        {
          method: 'POST',
          path: '/webhooks/stripe',
          next: () => {
            const e = pool.take();
            return { body: e.body, headers: { 'content-type': 'application/json', 'stripe-signature': e.signature } };
          },
        },
        { connections: 50, amount: perStep },
      );
      if (result.non2xx || result.errors) throw new Error(`memory run: ${result.non2xx} non-2xx, ${result.errors} errors`);
      // Wait for the worker to drain the step, then let BullMQ's removeOnComplete catch up. Jobs with a
      // priority (per-account fairness) wait in the prioritized set, not in the wait list.
      const drainBy = Date.now() + 600_000;
      for (;;) {
        const [waiting, prioritized, active] = await Promise.all([
          redis.client.llen(`${prefix}:stripe-events:wait`),
          redis.client.zcard(`${prefix}:stripe-events:prioritized`),
          redis.client.llen(`${prefix}:stripe-events:active`),
        ]);
        if (waiting + prioritized + active === 0) break;
        if (Date.now() > drainBy) throw new Error(`memory run: ${waiting + prioritized + active} jobs not drained in 10 minutes`);
        await pause(250);
      }
      await pause(500);
      points.push({
        events: perStep * step,
        usedBytes: await redis.usedMemory(),
        keys: await redis.client.dbsize(),
        retainedJobs: await redis.client.zcard(`${prefix}:stripe-events:completed`),
      });
    }
    const last = points[points.length - 1]!;
    const before = points[points.length - 2] ?? last;
    const parts = await memoryByKind(redis.client, last.retainedJobs);
    return {
      parts,
      events: perStep * plan.steps,
      retention: plan.retention,
      baselineBytes,
      points,
      bytesPerRetainedEvent: Math.round((last.usedBytes - baselineBytes) / Math.max(1, last.retainedJobs)),
      lastStepGrowth: (last.usedBytes - before.usedBytes) / before.usedBytes,
    };
  } finally {
    await Promise.all([web.stop(), worker.stop()]);
    await redis.flush();
  }
}
