import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { eventIndexFor } from '../../src/events/event-index';
import { summariseEvent } from '../../src/events/event-record';
import { AccountFairness } from '../../src/worker/ordering/account-fairness';
import { orderedEventOf, orderedRefs, orderingBase } from '../../src/worker/ordering/object-order';
import { objectOrderFor } from '../../src/worker/ordering/ordering-runtime';
import type { BenchRedis } from '../lib/bench-redis';
import { startNode } from '../lib/processes';
import { percentile } from '../lib/stats';
import type { DrainVariant, Fill } from './drain';

/** Objects shared by the 10 % of events that share them: ten events each. */
const EVENTS_PER_SHARED_OBJECT = 10;
const STEP = 100;

interface BenchEvent {
  id: string;
  type: string;
  created: number;
  account: string;
  data: { object: { id: string; object: string } };
}

let serial = 0;

/**
 * `count` customer.created events (a type with a handler, so ordering applies; the handler writes one job log
 * line), created one second apart. `shared`: 10 % of them, at random places, belong to objects of ten events
 * each, queued in random order (a newer one first half the time), so some find an older one waiting.
 */
function benchEvents(count: number, account: string, shared: boolean): BenchEvent[] {
  const run = (serial += 1).toString(36) + Date.now().toString(36);
  const created = 1_700_000_000;
  const events: BenchEvent[] = Array.from({ length: count }, (_, i) => ({
    id: `evt_ord${run}_${i.toString(36)}`,
    type: 'customer.created',
    created: created + i,
    account,
    data: { object: { id: `cus_${run}_${i.toString(36)}`, object: 'customer' } },
  }));
  if (shared) {
    const picked = events.map((_, i) => i).sort(() => Math.random() - 0.5).slice(0, Math.floor(count / 10));
    picked.forEach((i, k) => (events[i]!.data.object.id = `cus_${run}_shared_${Math.floor(k / EVENTS_PER_SHARED_OBJECT)}`));
  }
  return events;
}

async function addEvents(queue: Queue, events: BenchEvent[], ordered: boolean, fair: boolean): Promise<void> {
  const client = (await queue.client) as unknown as Redis;
  const prefix = queue.opts.prefix ?? 'hooklane';
  const index = eventIndexFor(client, { QUEUE_PREFIX: prefix, EVENT_INDEX_RETENTION_DAYS: 30, EVENT_INDEX_MAX_EVENTS: 100_000 });
  const order = objectOrderFor(client, { QUEUE_PREFIX: prefix, ORDERING_LEASE_MS: 30_000, ORDERING_STEP_ASIDE_MS: 250, ORDERING_MEMORY_HOURS: 72 });
  const fairness = new AccountFairness(client, { base: orderingBase(prefix), step: STEP, windowSeconds: 60 });
  // As the intake mover does it, in batches of 200: waiting sets first (with queue-time grants), then the records
  // with the payloads, then the jobs (with priorities), each carrying a reference, its place and any grant.
  for (let i = 0; i < events.length; i += 200) {
    const batch = events.slice(i, i + 200);
    const refs = await orderedRefs(ordered ? order : undefined, batch.map((e) => ({ id: e.id, place: orderedEventOf(e, e.id) })));
    const priorities = fair ? await fairness.priorities(batch.map((e) => e.account)) : undefined;
    await Promise.all(batch.map((e) => index.record(summariseEvent(e), JSON.stringify(e))));
    await queue.addBulk(batch.map((e, k) => ({
      name: e.type,
      data: refs[k]!,
      opts: { jobId: e.id, removeOnComplete: { age: 3600, count: 100_000 }, attempts: 5, ...(priorities ? { priority: priorities[k]! } : {}) },
    })));
  }
}

/** A fill of handled events: ordering on registers them (and fairness gives priorities), as the mover would. */
function orderedFill(ordering: boolean, shared: boolean): Fill {
  return async (queue, count) => {
    const events = benchEvents(count, 'acct_bench0000000001', shared);
    // In shared mode the queue order is shuffled within each object: half the pairs arrive newest first.
    if (shared) events.sort(() => Math.random() - 0.5);
    await addEvents(queue, events, ordering, ordering);
  };
}

/** The drain rows: the same handled events with ordering off (today's worker) and on, distinct and shared objects. */
export function orderingDrainVariants(script: string, env: Record<string, string>): DrainVariant[] {
  const mode = 'sandboxed (thread), customer.created';
  return [
    { name: `hooklane worker, ordering off, ${mode}`, script, env: { ...env, ORDERING_ENABLED: 'false', FAIRNESS_EVENTS_PER_STEP: '0' }, fill: orderedFill(false, false) },
    { name: `hooklane worker, ordering on, distinct objects, ${mode}`, script, env, fill: orderedFill(true, false) },
    { name: `hooklane worker, ordering on, 10 % sharing objects, ${mode}`, script, env, fill: orderedFill(true, true) },
  ];
}

export interface FairnessRow {
  name: string;
  noisyEvents: number;
  quietEvents: number;
  /** How long the noisy backlog took to drain (s). */
  drainS: number;
  /** The quiet account's latency (job added → finished), ms. */
  quietP50: number;
  quietP99: number;
  quietMax: number;
  /** The stated bound: (2 × step + concurrency) jobs at the measured drain rate, ms. */
  boundMs: number;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * One noisy account with `noisy` events queued (paused queue, then resumed), one quiet account adding an event
 * every 20 ms while the backlog drains; the quiet events' latency from being queued to finished. Run with
 * fairness on and off, same worker (thread sandbox, ordering on).
 */
export async function benchFairness(name: string, script: string, env: Record<string, string>, redis: BenchRedis, noisy: number, fair: boolean, concurrency: number): Promise<FairnessRow> {
  await redis.flush();
  const prefix = 'hooklane';
  const queue = new Queue('stripe-events', { connection: redis.client, prefix });
  const worker = startNode(name.replace(/\W+/g, '-'), script, { ...env, REDIS_URL: redis.url, QUEUE_PREFIX: prefix, WORKER_CONCURRENCY: String(concurrency) });
  try {
    // Warm-up: the sandbox threads start and load the processor before anything is measured.
    await addEvents(queue, benchEvents(concurrency * 50, 'acct_warmup', false), true, fair);
    while (((await queue.getJobCounts('completed')).completed ?? 0) < concurrency * 50) await pause(50);
    await queue.pause();
    await addEvents(queue, benchEvents(noisy, 'acct_noisy', false), true, fair);
    const quiet: string[] = [];
    const started = performance.now();
    await queue.resume();
    const target = concurrency * 50 + noisy;
    for (;;) {
      const quietEvents = benchEvents(1, 'acct_quiet', false);
      await addEvents(queue, quietEvents, true, fair);
      quiet.push(quietEvents[0]!.id);
      const { completed = 0 } = await queue.getJobCounts('completed');
      if (completed >= target + quiet.length - 1) break;
      if (worker.child.exitCode !== null) throw new Error(`${name} exited:\n${worker.log().slice(-2000)}`);
      if (performance.now() - started > 600_000) throw new Error(`${name} did not drain in 10 min`);
      await pause(20);
    }
    const drainS = (performance.now() - started) / 1000;
    while (((await queue.getJobCounts('completed')).completed ?? 0) < target + quiet.length) await pause(20);
    const jobs = await Promise.all(quiet.map((id) => queue.getJob(id)));
    const latencies = jobs.map((job) => (job?.finishedOn ?? Number.NaN) - (job?.timestamp ?? Number.NaN));
    const rate = noisy / drainS;
    return {
      name,
      noisyEvents: noisy,
      quietEvents: quiet.length,
      drainS,
      quietP50: percentile(latencies, 50),
      quietP99: percentile(latencies, 99),
      quietMax: Math.max(...latencies),
      boundMs: ((2 * STEP + concurrency) / rate) * 1000,
    };
  } finally {
    await worker.stop();
    await queue.close();
    await redis.flush();
  }
}
