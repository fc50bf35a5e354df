import { freePort } from '../../src/dev/embedded-redis';
import { eventIndexBase } from '../../src/events/intake-log';
import type { BenchRedis } from '../lib/bench-redis';
import type { LoadResult } from '../lib/load';
import { startHttpServer, startNode } from '../lib/processes';
import { BENCH_WEBHOOK_SECRET, type EventMaker } from '../lib/signed-events';
import { SteadyLoad, type Outcome } from '../lib/steady-load';
import { median, percentile } from '../lib/stats';

export interface EndToEndRow {
  name: string;
  rate: number;
  events: number;
  /** Accepted by the web (the event index's receivedAt) to handler completed (the job's finishedOn), ms. */
  p50: number;
  p99: number;
  max: number;
  /** The two parts of it: waiting (accepted -> picked up: the intake log, the mover and the queue) and processing (picked up -> completed). */
  waitP50: number;
  waitP99: number;
  processP50: number;
  processP99: number;
  notCompleted: number;
  http: LoadResult;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Reads each event's receivedAt (index record) and its job's (jobId = event id) processedOn and finishedOn, pipelined. */
async function receivedToCompleted(
  redis: BenchRedis,
  prefix: string,
  ids: string[],
): Promise<{ latencies: number[]; waits: number[]; processing: number[]; missing: number }> {
  const latencies: number[] = [];
  const waits: number[] = [];
  const processing: number[] = [];
  let missing = 0;
  for (let i = 0; i < ids.length; i += 1000) {
    const pipeline = redis.client.pipeline();
    for (const id of ids.slice(i, i + 1000)) {
      // Received: when the web accepted it (the index record's receivedAt), not when its job was created.
      pipeline.hget(`${eventIndexBase(prefix)}:rec:${id}`, 'receivedAt');
      pipeline.hmget(`${prefix}:stripe-events:${id}`, 'processedOn', 'finishedOn');
    }
    const replies = (await pipeline.exec()) ?? [];
    for (let k = 0; k < replies.length; k += 2) {
      const receivedAt = Number(replies[k]![1]);
      const [processedOn, finishedOn] = ((replies[k + 1]![1] as (string | null)[]) ?? []).map(Number);
      if (receivedAt && processedOn && finishedOn) {
        latencies.push(finishedOn - receivedAt);
        waits.push(processedOn - receivedAt);
        processing.push(finishedOn - processedOn);
      } else missing += 1;
    }
  }
  return { latencies, waits, processing, missing };
}

/** The paced load's answers as a LoadResult: latency is send to answer (the load is open-loop). */
function httpResult(outcomes: Outcome[], durationS: number): LoadResult {
  const ok = outcomes.filter((o) => o.status >= 200 && o.status < 300);
  const ms = outcomes.filter((o) => o.status > 0).map((o) => o.ms);
  return {
    rps: outcomes.length / durationS,
    p50: percentile(ms, 50),
    p99: percentile(ms, 99),
    errors: outcomes.filter((o) => o.status === 0).length,
    non2xx: outcomes.length - ok.length - outcomes.filter((o) => o.status === 0).length,
    total: outcomes.length,
  };
}

/**
 * One web and one worker (both as production runs them) at a steady request rate, evenly spaced (SteadyLoad,
 * not autocannon's per-second bursts); every event's time from being received by the web to its handler
 * having completed, from the job's own timestamps (one clock).
 */
export async function benchEndToEnd(
  name: string,
  webScript: string,
  worker: { script: string; env: Record<string, string>; /** Run beside a worker that has no intake mover of its own. */ mover?: string },
  env: Record<string, string>,
  redis: BenchRedis,
  plan: { rate: number; durationS: number; reps: number },
  /** Other bodies than snapshot customer.created events (thin notifications whose full events the emulator holds). */
  make?: EventMaker,
): Promise<EndToEndRow> {
  const prefix = 'hooklane';
  const rows: Omit<EndToEndRow, 'name'>[] = [];
  for (let rep = 0; rep < plan.reps; rep += 1) {
    await redis.flush();
    const fullEnv = { ...env, REDIS_URL: redis.url, QUEUE_PREFIX: prefix };
    const web = await startHttpServer('e2e-web', webScript, await freePort(), fullEnv, '/readyz');
    const workerProcess = startNode('e2e-worker', worker.script, { ...fullEnv, ...worker.env });
    const moverProcess = worker.mover ? startNode('e2e-mover', worker.mover, fullEnv) : undefined;
    try {
      const runId = `e2e${rep}${Date.now().toString(36)}`;
      const load = (prefix: string, count: number) =>
        new SteadyLoad({ url: web.url, rate: plan.rate, maxRequests: count, maxDurationMs: (count / plan.rate) * 1000 + 30_000, secret: BENCH_WEBHOOK_SECRET, prefix, type: 'customer.created', object: 'customer', ...(make ? { make } : {}) }).done;
      // Warm-up at the same rate until every warm-up event is done: the worker's sandbox threads exist (each
      // loads the processor once, seconds of CPU) and the JIT has run before anything is measured.
      const warmIds = (await load(`${runId}w`, plan.rate * 5)).map((o) => o.id);
      const warmDeadline = Date.now() + 60_000;
      while ((await receivedToCompleted(redis, prefix, warmIds)).missing > 0 && Date.now() < warmDeadline) await pause(250);
      await pause(1000);
      const outcomes = await load(runId, plan.rate * plan.durationS);
      const http = httpResult(outcomes, plan.durationS);
      const sent = outcomes.filter((o) => o.status >= 200 && o.status < 300).map((o) => o.id);
      const deadline = Date.now() + 60_000;
      let result = await receivedToCompleted(redis, prefix, sent);
      while (result.missing > 0 && Date.now() < deadline) {
        await pause(250);
        result = await receivedToCompleted(redis, prefix, sent);
      }
      rows.push({
        rate: plan.rate,
        events: sent.length,
        p50: percentile(result.latencies, 50),
        p99: percentile(result.latencies, 99),
        waitP50: percentile(result.waits, 50),
        waitP99: percentile(result.waits, 99),
        processP50: percentile(result.processing, 50),
        processP99: percentile(result.processing, 99),
        max: Math.max(...result.latencies),
        notCompleted: result.missing,
        http,
      });
    } finally {
      await Promise.all([web.stop(), workerProcess.stop(), moverProcess?.stop()]);
    }
  }
  const mid = rows.slice().sort((a, b) => a.p99 - b.p99)[Math.floor(rows.length / 2)]!;
  return { ...mid, name, p50: median(rows.map((r) => r.p50)), p99: median(rows.map((r) => r.p99)) };
}
