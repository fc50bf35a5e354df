import { freePort } from '../../src/dev/embedded-redis';
import type { BenchRedis } from '../lib/bench-redis';
import { runLoad, type LoadResult } from '../lib/load';
import { startHttpServer } from '../lib/processes';
import { BENCH_WEBHOOK_SECRET, EventPool, signedEvents } from '../lib/signed-events';
import { median } from '../lib/stats';

export interface HttpRow {
  name: string;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
  total: number;
  reps: LoadResult[];
  /** Intake only: events that had to be signed during the run because the pre-made pool ran dry. */
  signedOnTheFly?: number;
}

export interface HttpPlan {
  durationS: number;
  reps: number;
  warmupS: number;
  connections: number;
}

function summarise(name: string, reps: LoadResult[]): HttpRow {
  return {
    name,
    rps: median(reps.map((r) => r.rps)),
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
    const reps: LoadResult[] = [];
    for (let i = 0; i < plan.reps; i += 1) {
      reps.push(await runLoad(server.url, { path: '/' }, { connections: plan.connections, durationS: plan.durationS }));
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
): Promise<HttpRow> {
  const server = await startHttpServer(name.replace(/\W+/g, '-'), script, await freePort(), { ...env, REDIS_URL: redis.url, STRIPE_WEBHOOK_SECRET: BENCH_WEBHOOK_SECRET }, '/readyz');
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
    const warm = new EventPool(signedEvents(5000, { prefix: `w${Date.now().toString(36)}` }), 'w');
    const warmup = await load(warm, plan.warmupS);
    const reps: LoadResult[] = [];
    let onTheFly = 0;
    for (let i = 0; i < plan.reps; i += 1) {
      await redis.flush();
      const size = Math.ceil(Math.max(warmup.rps, 1000) * plan.durationS * 1.6);
      const prefix = `r${i}${Date.now().toString(36)}`;
      const pool = new EventPool(signedEvents(size, { prefix }), prefix);
      reps.push(await load(pool, plan.durationS));
      onTheFly += pool.madeOnTheFly;
    }
    await redis.flush();
    return { ...summarise(name, reps), signedOnTheFly: onTheFly };
  } finally {
    await server.stop();
  }
}
