import { Queue } from 'bullmq';
import type { BenchRedis } from '../lib/bench-redis';
import { startNode, type BenchProcess } from '../lib/processes';
import { median } from '../lib/stats';

export interface DrainVariant {
  name: string;
  script: string;
  env: Record<string, string>;
  /** How this variant's queue is filled, when not the run's shared fill (the ordering rows: waiting sets, priorities). */
  fill?: Fill;
}

export interface DrainRow {
  name: string;
  jobsPerS: number;
  reps: number[];
  failed: number;
  /** CPU per job while draining (µs, median of runs): the worker process (all its threads) and Redis. */
  workerCpuUs: number;
  redisCpuUs: number;
}

export interface DrainPlan {
  jobs: number;
  reps: number;
  concurrency: number;
}

/** Fills the queue before the worker starts, so the run measures draining alone. */
export type Fill = (queue: Queue, count: number) => Promise<void>;

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls the completed + failed count until it reaches `target`; returns when it first passed `from` and when done. */
async function waitForDone(queue: Queue, from: number, target: number, worker: BenchProcess, name: string) {
  const deadline = Date.now() + 600_000;
  let first: { t: number; n: number } | undefined;
  for (;;) {
    const { completed = 0, failed = 0 } = await queue.getJobCounts('completed', 'failed');
    const done = completed + failed;
    const now = performance.now();
    if (!first && done > from) first = { t: now, n: done };
    if (done >= target) return { first: first ?? { t: now, n: done }, last: { t: now, n: done }, failed };
    if (worker.child.exitCode !== null) throw new Error(`${name} exited:\n${worker.log().slice(-2000)}`);
    if (Date.now() > deadline) throw new Error(`${name} did not drain ${target} jobs in 10 min`);
    await pause(20);
  }
}

/**
 * Steady-state drain rate. The worker first processes a warm-up batch (so a sandboxed worker has started
 * its threads and loaded its processor in each: seconds of CPU, paid once per process lifetime), then the
 * queue is paused, filled with `jobs` jobs and resumed; the rate runs from the first completion seen to
 * the last (the queue's completed count, polled every 20 ms).
 */
async function drainOnce(
  variant: DrainVariant,
  queue: Queue,
  redis: BenchRedis,
  jobs: number,
  env: Record<string, string>,
  fill: Fill,
): Promise<{ rate: number; failed: number; workerCpuUs: number; redisCpuUs: number }> {
  const warmup = Number(env.WORKER_CONCURRENCY ?? 10) * 50;
  await fill(queue, warmup);
  const worker = startNode(variant.name.replace(/\W+/g, '-'), variant.script, env);
  try {
    await waitForDone(queue, 0, warmup, worker, variant.name);
    await queue.pause();
    await fill(queue, jobs);
    const [worker0, redis0] = [worker.cpuMicros(), await redis.cpuMicros()];
    await queue.resume();
    const { first, last, failed } = await waitForDone(queue, warmup, warmup + jobs, worker, variant.name);
    const [worker1, redis1] = [worker.cpuMicros(), await redis.cpuMicros()];
    return { rate: ((last.n - first.n) / (last.t - first.t)) * 1000, failed, workerCpuUs: (worker1 - worker0) / jobs, redisCpuUs: (redis1 - redis0) / jobs };
  } finally {
    await worker.stop();
  }
}

/**
 * Drains with each variant `plan.reps` times, interleaved (A B, B A, A B, ...), so that a slow stretch of a
 * shared machine falls on both sides alike instead of on whichever ran second.
 */
export async function benchDrainSideBySide(
  variants: DrainVariant[],
  redis: BenchRedis,
  plan: DrainPlan,
  queueName: string,
  prefix: string,
  fill: Fill,
): Promise<DrainRow[]> {
  const queue = new Queue(queueName, { connection: redis.client, prefix });
  const rows = variants.map((variant) => ({ name: variant.name, reps: [] as number[], failed: 0, workerCpu: [] as number[], redisCpu: [] as number[] }));
  try {
    for (let i = 0; i < plan.reps; i += 1) {
      const order = variants.map((_, k) => k);
      if (i % 2 === 1) order.reverse();
      for (const k of order) {
        await redis.flush();
        const variant = variants[k]!;
        const env = { ...variant.env, REDIS_URL: redis.url, QUEUE_PREFIX: prefix, WORKER_CONCURRENCY: String(plan.concurrency) };
        const result = await drainOnce(variant, queue, redis, plan.jobs, env, variant.fill ?? fill);
        const row = rows[k]!;
        row.reps.push(result.rate);
        row.failed += result.failed;
        row.workerCpu.push(result.workerCpuUs);
        row.redisCpu.push(result.redisCpuUs);
      }
    }
  } finally {
    await redis.flush();
    await queue.close();
  }
  return rows.map(({ workerCpu, redisCpu, ...row }) => ({ ...row, jobsPerS: median(row.reps), workerCpuUs: median(workerCpu), redisCpuUs: median(redisCpu) }));
}
