import { freePort } from '../../src/dev/embedded-redis';
import type { BenchRedis } from '../lib/bench-redis';
import { busyPercent, coreTimes, LOADGEN_CPU, SERVER_CPU } from '../lib/cpu';
import { runLoad, type LoadResult } from '../lib/load';
import { startHttpServer, type BenchProcess } from '../lib/processes';
import { BENCH_WEBHOOK_SECRET, EventPool, signedEvents, type EventMaker } from '../lib/signed-events';
import { median } from '../lib/stats';

export interface HttpRow {
  name: string;
  rps: number;
  /** CPU the process under test used per request (µs): comparable even when the run is bound elsewhere. */
  serverCpuUs: number;
  /** CPU Redis used per request (µs); 0 for the baselines. */
  redisCpuUs: number;
  /** How busy the load generator's core and the server's core were during the runs (%, median): near 100 is the bound. */
  loadgenCoreBusy: number;
  serverCoreBusy: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
  total: number;
  reps: MeasuredRun[];
  /** Intake only: events that had to be signed during the run because the pre-made pool ran dry. */
  signedOnTheFly?: number;
}

export interface HttpPlan {
  durationS: number;
  reps: number;
  warmupS: number;
  connections: number;
}

type MeasuredRun = LoadResult & { serverCpuUs: number; redisCpuUs: number; loadgenCoreBusy: number; serverCoreBusy: number };

/** Runs `load` and charges the CPU the server (and Redis) used during it to its requests. */
async function measured(server: BenchProcess, redis: BenchRedis | undefined, load: () => Promise<LoadResult>): Promise<MeasuredRun> {
  const [server0, redis0] = [server.cpuMicros(), (await redis?.cpuMicros()) ?? 0];
  const cores0 = coreTimes();
  const result = await load();
  const cores1 = coreTimes();
  const [server1, redis1] = [server.cpuMicros(), (await redis?.cpuMicros()) ?? 0];
  const per = (delta: number) => (result.total ? delta / result.total : Number.NaN);
  return {
    ...result,
    serverCpuUs: per(server1 - server0),
    redisCpuUs: per(redis1 - redis0),
    loadgenCoreBusy: busyPercent(cores0, cores1, LOADGEN_CPU),
    serverCoreBusy: busyPercent(cores0, cores1, SERVER_CPU),
  };
}

function summarise(name: string, reps: MeasuredRun[]): HttpRow {
  return {
    name,
    rps: median(reps.map((r) => r.rps)),
    serverCpuUs: median(reps.map((r) => r.serverCpuUs)),
    redisCpuUs: median(reps.map((r) => r.redisCpuUs)),
    loadgenCoreBusy: median(reps.map((r) => r.loadgenCoreBusy)),
    serverCoreBusy: median(reps.map((r) => r.serverCoreBusy)),
    p50: median(reps.map((r) => r.p50)),
    p99: median(reps.map((r) => r.p99)),
    errors: reps.reduce((n, r) => n + r.errors, 0),
    non2xx: reps.reduce((n, r) => n + r.non2xx, 0),
    total: reps.reduce((n, r) => n + r.total, 0),
    reps,
  };
}

/** GET baseline: the same small JSON answer from the server under test, `plan.reps` times. */
export async function benchGet(name: string, script: string, plan: HttpPlan): Promise<HttpRow> {
  const server = await startHttpServer(name.replace(/\W+/g, '-'), script, await freePort(), {});
  try {
    await runLoad(server.url, { path: '/' }, { connections: plan.connections, durationS: plan.warmupS });
    const reps: MeasuredRun[] = [];
    for (let i = 0; i < plan.reps; i += 1) {
      reps.push(await measured(server, undefined, () => runLoad(server.url, { path: '/' }, { connections: plan.connections, durationS: plan.durationS })));
    }
    return summarise(name, reps);
  } finally {
    await server.stop();
  }
}

/**
 * Webhook intake: every request a unique, correctly signed event. Events are signed before each run, as
 * many as the warm-up's rate says the run needs (with headroom); Redis is emptied between runs.
 */
export async function benchIntake(
  name: string,
  script: string,
  env: Record<string, string>,
  redis: BenchRedis,
  plan: HttpPlan,
  webhookPath = '/webhooks/stripe',
  /** Other bodies than snapshot events (thin notifications); `env` then names their secret too. */
  make: EventMaker = (count, prefix) => signedEvents(count, { prefix }),
): Promise<HttpRow> {
  const server = await startHttpServer(name.replace(/\W+/g, '-'), script, await freePort(), { STRIPE_WEBHOOK_SECRET: BENCH_WEBHOOK_SECRET, ...env, REDIS_URL: redis.url }, '/readyz');
  const load = (pool: EventPool, durationS: number) =>
    runLoad(
      server.url,
      {
        method: 'POST',
        path: webhookPath,
        next: () => {
          const event = pool.take();
          return { body: event.body, headers: { 'content-type': 'application/json', 'stripe-signature': event.signature } };
        },
      },
      { connections: plan.connections, durationS },
    );
  try {
    const warm = new EventPool(make(5000, `w${Date.now().toString(36)}`), 'w', make);
    const warmup = await load(warm, plan.warmupS);
    const reps: MeasuredRun[] = [];
    let onTheFly = 0;
    for (let i = 0; i < plan.reps; i += 1) {
      await redis.flush();
      const size = Math.ceil(Math.max(warmup.rps, 1000) * plan.durationS * 1.6);
      const prefix = `r${i}${Date.now().toString(36)}`;
      const pool = new EventPool(make(size, prefix), prefix, make);
      reps.push(await measured(server, redis, () => load(pool, plan.durationS)));
      onTheFly += pool.madeOnTheFly;
    }
    await redis.flush();
    return { ...summarise(name, reps), signedOnTheFly: onTheFly };
  } finally {
    await server.stop();
  }
}
