import { loadavg, cpus } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { eventIndexFor } from '../src/events/event-index';
import { summariseEvent } from '../src/events/event-record';
import { startBenchRedis } from './lib/bench-redis';
import { LOADGEN_CPU, SERVER_CPU, canPin, pinSelf } from './lib/cpu';
import { HOOKLANE_ENV } from './lib/hooklane-env';
import { BENCH_BUILD, logDir, ROOT } from './lib/processes';
import { targetsOf, writeResults, type BenchResults } from './lib/report';
import { signedEvents } from './lib/signed-events';
import { benchDrainSideBySide, type DrainRow, type Fill } from './scenarios/drain';
import { benchEndToEnd, type EndToEndRow } from './scenarios/end-to-end';
import { benchGet, benchIntake, type HttpPlan, type HttpRow } from './scenarios/http';
import { benchMemory } from './scenarios/memory';
import { benchFairness, orderingDrainVariants, type FairnessRow } from './scenarios/ordering';

const say = (line: string) => process.stdout.write(`[bench] ${line}\n`);
const WEB = path.join(ROOT, 'dist', 'web', 'main.js');
const WORKER = path.join(ROOT, 'dist', 'worker', 'main.js');
const SERVERS = path.join(BENCH_BUILD, 'servers');
const ALL = ['http', 'drain', 'ordering', 'fairness', 'e2e', 'memory'];

/** Queues `count` no-op events (a type without a handler: hooklane marks them ignored) as the intake stores them. */
const fillStripeEvents: Fill = async (queue, count) => {
  const client = await queue.client;
  const index = eventIndexFor(client as never, { QUEUE_PREFIX: queue.opts.prefix ?? 'hooklane', EVENT_INDEX_RETENTION_DAYS: 30, EVENT_INDEX_MAX_EVENTS: 100_000 });
  const events = signedEvents(count, { prefix: `drain${Date.now().toString(36)}`, type: 'plan.created', object: 'plan' });
  for (let i = 0; i < events.length; i += 1000) {
    const chunk = events.slice(i, i + 1000);
    const parsed = chunk.map((e) => JSON.parse(e.body) as { id: string; type: string });
    await queue.addBulk(parsed.map((event) => ({ name: event.type, data: event, opts: { jobId: event.id, removeOnComplete: { age: 3600, count: 100_000 }, attempts: 5 } })));
    await Promise.all(parsed.map((event, k) => index.record(summariseEvent(event), chunk[k]!.body)));
  }
};

function parse() {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean' },
      only: { type: 'string' },
      duration: { type: 'string' },
      reps: { type: 'string' },
      'redis-core': { type: 'string' },
    },
  });
  const redisCore = values['redis-core'] ?? 'loadgen';
  if (redisCore !== 'loadgen' && redisCore !== 'server') throw new Error(`--redis-core is loadgen (the default) or server, not ${redisCore}`);
  const quick = !!values.quick;
  const plan: HttpPlan = {
    durationS: Number(values.duration ?? (quick ? 3 : 10)),
    reps: Number(values.reps ?? 3),
    warmupS: quick ? 1 : 3,
    connections: 50,
  };
  return { quick, plan, redisCore, repsGiven: values.reps !== undefined, only: new Set((values.only ?? ALL.join(',')).split(',')) };
}

async function main(): Promise<void> {
  const { quick, plan, only, redisCore, repsGiven } = parse();
  const startedAt = new Date().toISOString();
  const loadBefore = loadavg();
  const pinned = pinSelf(LOADGEN_CPU) && canPin();
  const layout = !pinned
    ? 'nothing pinned (no taskset or one core)'
    : redisCore === 'server'
      ? `load generator pinned to core ${LOADGEN_CPU}, the process under test and Redis to core ${SERVER_CPU} (taskset)`
      : `load generator and Redis pinned to core ${LOADGEN_CPU}, the process under test to core ${SERVER_CPU} (taskset)`;
  say(`${layout}; logs of every process in ${logDir()}`);
  const redis = await startBenchRedis(pinned && redisCore === 'server' ? SERVER_CPU : undefined);
  const http: HttpRow[] = [];
  const drain: DrainRow[] = [];
  const endToEnd: EndToEndRow[] = [];
  const fairness: FairnessRow[] = [];
  const results: Partial<BenchResults> = {};
  const cleanup = async () => {
    await redis.stop().catch(() => undefined);
  };
  process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));
  try {
    if (only.has('http')) {
      http.push(await benchGet('bare node:http GET', path.join(SERVERS, 'bare-http.js'), plan));
      http.push(await benchGet('bare Express 5 GET', path.join(SERVERS, 'bare-express.js'), plan));
      http.push(await benchIntake('plain-way intake (express.raw + constructEvent + queue.add)', path.join(SERVERS, 'plain-intake.js'), {}, redis, plan));
      http.push(await benchIntake('hooklane intake (Express route)', WEB, HOOKLANE_ENV, redis, plan, '/webhooks/stripe?via=express'));
      http.push(await benchIntake('hooklane intake (fast path)', WEB, HOOKLANE_ENV, redis, plan));
      for (const h of http) say(`${h.name}: ${h.rps.toFixed(0)} req/s p50 ${h.p50} ms p99 ${h.p99} ms errors ${h.errors} non-2xx ${h.non2xx}`);
    }
    if (only.has('drain')) {
      // The drain ratios move most from run to run: five interleaved pairs unless --reps says otherwise.
      const drainPlan = { jobs: quick ? 10_000 : 50_000, reps: repsGiven ? plan.reps : quick ? 3 : 5, concurrency: 10 };
      for (const sandbox of ['none', 'thread'] as const) {
        const mode = sandbox === 'none' ? 'in-process' : 'sandboxed (thread)';
        const bare = { name: `bare BullMQ Worker, ${mode}`, script: path.join(SERVERS, 'bare-worker.js'), env: { WORKER_SANDBOX: sandbox } };
        const ours = { name: `hooklane worker, ${mode}`, script: WORKER, env: { ...HOOKLANE_ENV, WORKER_SANDBOX: sandbox } };
        drain.push(...(await benchDrainSideBySide([bare, ours], redis, drainPlan, 'stripe-events', 'hooklane', fillStripeEvents)));
      }
      for (const d of drain) say(`${d.name}: ${d.jobsPerS.toFixed(0)} jobs/s (runs ${d.reps.map((r) => r.toFixed(0)).join(', ')}) failed ${d.failed}`);
    }
    if (only.has('ordering')) {
      // Per-object ordering's cost: the same handled events with ordering off (today's worker) and on, interleaved.
      const orderingPlan = { jobs: quick ? 10_000 : 50_000, reps: repsGiven ? plan.reps : quick ? 3 : 5, concurrency: 10 };
      const env = { ...HOOKLANE_ENV, WORKER_SANDBOX: 'thread' };
      const rows = await benchDrainSideBySide(orderingDrainVariants(WORKER, env), redis, orderingPlan, 'stripe-events', 'hooklane', fillStripeEvents);
      drain.push(...rows);
      for (const d of rows) say(`${d.name}: ${d.jobsPerS.toFixed(0)} jobs/s (runs ${d.reps.map((r) => r.toFixed(0)).join(', ')}) failed ${d.failed}`);
    }
    if (only.has('fairness')) {
      // One noisy account's backlog, one quiet account sending every 20 ms meanwhile: the quiet account's latency.
      const noisy = quick ? 10_000 : 50_000;
      const env = { ...HOOKLANE_ENV, WORKER_SANDBOX: 'thread' };
      fairness.push(await benchFairness('fairness on (FAIRNESS_EVENTS_PER_STEP=100)', WORKER, env, redis, noisy, true, 10));
      fairness.push(await benchFairness('fairness off (FAIRNESS_EVENTS_PER_STEP=0)', WORKER, { ...env, FAIRNESS_EVENTS_PER_STEP: '0' }, redis, noisy, false, 10));
      for (const f of fairness) say(`${f.name}: quiet p50 ${f.quietP50} ms p99 ${f.quietP99} ms max ${f.quietMax} ms (${f.quietEvents} quiet events, ${f.noisyEvents} noisy drained in ${f.drainS.toFixed(1)} s; bound ${f.boundMs.toFixed(0)} ms)`);
    }
    if (only.has('e2e')) {
      const e2ePlan = { rate: 500, durationS: quick ? 5 : 20, reps: plan.reps };
      // The same web with a bare BullMQ Worker (no-op processor, same sandbox) separates the intake and the
      // queue from hooklane's processor.
      // hooklane's intake mover runs beside it (the bare worker has none), so events reach its queue the same way.
      const bareWorker = { script: path.join(SERVERS, 'bare-worker.js'), env: { WORKER_SANDBOX: 'thread' }, mover: path.join(SERVERS, 'intake-mover.js') };
      endToEnd.push(await benchEndToEnd('hooklane web + hooklane worker (thread sandbox)', WEB, { script: WORKER, env: {} }, HOOKLANE_ENV, redis, e2ePlan));
      endToEnd.push(await benchEndToEnd('hooklane web + intake mover + bare BullMQ Worker, no-op (reference)', WEB, bareWorker, HOOKLANE_ENV, redis, e2ePlan));
      for (const e of endToEnd) say(`end to end, ${e.name}: p50 ${e.p50} ms p99 ${e.p99} ms (not completed ${e.notCompleted})`);
    }
    if (only.has('memory')) {
      // Quick runs shrink the caps so the plateau shows after a few thousand events; full runs use the defaults.
      const retention: Record<string, string> = quick ? { JOB_REMOVE_COUNT_LIMIT: '5000', EVENT_INDEX_MAX_EVENTS: '5000' } : {};
      // The worker runs in-process here only to drain 200,000 events in minutes; what Redis keeps per event
      // does not depend on where the processor runs.
      const env = { ...HOOKLANE_ENV, WORKER_SANDBOX: 'none' };
      results.memory = await benchMemory(WEB, WORKER, env, redis, { events: quick ? 20_000 : 200_000, steps: 4, retention });
      say(`memory: ${results.memory.points.map((p) => `${p.events}: ${(p.usedBytes / 1048576).toFixed(1)} MiB`).join(', ')}; ${results.memory.bytesPerRetainedEvent} B per retained event`);
    }
  } finally {
    await cleanup();
  }
  const full: BenchResults = {
    startedAt,
    finishedAt: new Date().toISOString(),
    command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
    machine: { cpus: cpus().length, node: process.versions.node, loadBefore, loadAfter: loadavg(), pinned, layout },
    plan: { ...plan, quick },
    http,
    drain,
    endToEnd,
    ...(fairness.length ? { fairness } : {}),
    ...results,
    targets: [],
  };
  full.targets = targetsOf(full);
  // The other layout is a side measurement: its own files, never the headline bench-latest.
  const name = `${quick ? 'bench-quick' : 'bench'}${redisCore === 'server' ? '-redis-on-server-core' : ''}`;
  const md = writeResults(path.join(ROOT, 'bench', 'results'), full, name, !quick);
  process.stdout.write(`\n${md}`);
}

main().catch((err: unknown) => {
  process.stderr.write(`[bench] failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
