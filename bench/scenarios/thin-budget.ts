import { spawn } from 'node:child_process';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { startStripeBenchServices } from '../lib/stripe-services';
import { newCustomerEvent } from '../lib/thin-events';
import { eventIndexFor } from '../../src/events/event-index';
import { IntakeLog } from '../../src/events/intake-log';
import { ROOT } from '../lib/processes';

export interface ThinBudgetRow {
  workers: number;
  events: number;
  /** STRIPE_API_REQUESTS_PER_SECOND, and the emulator's own limit (429 above it). */
  limitPerSecond: number;
  processed: number;
  /** Events whose job failed (for rate limiting or anything else). Must be 0. */
  failed: number;
  statuses: Record<string, number>;
  /** Not final when the bounded wait ended. Must be 0. */
  unfinished: number;
  /** Requests the emulator answered 429 (they arrived above its limit), and what it served. */
  emulator429: number;
  emulatorServed: number;
  /** The most requests the emulator served within any 1000 ms. */
  emulatorPeakPerSecond: number;
  seconds: number;
  /** Requests served / (limit × seconds from the first request to the last). */
  budgetUsedPercent: number;
  /** Mean ms from a slot granted to the answer (what the workers saw), and mean ms a request waited for its slot. */
  meanRequestMs: number;
  meanWaitMs: number;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The shared Stripe API budget under load: `workers` worker processes (dist/worker/main.js) fetch
 * `workers × perWorker` thin events through the emulator, which answers 429 above `limit` per second;
 * STRIPE_API_REQUESTS_PER_SECOND is that same limit. Its own Redis (no AOF) and emulator; bounded in time.
 * The workers run with NODE_ENV=development only because production refuses a plain-http STRIPE_API_BASE.
 */
export async function benchThinBudget(plan: { workers: number; perWorker: number; limit: number }): Promise<ThinBudgetRow> {
  const { workers, perWorker, limit } = plan;
  const total = workers * perWorker;
  const services = await startStripeBenchServices('thin-budget', limit);
  const { redis: redisServer, emulator, key } = services;
  const redis = new Redis(redisServer.url, { maxRetriesPerRequest: null });
  const config = { QUEUE_PREFIX: 'thinbench', EVENT_INDEX_RETENTION_DAYS: 30, EVENT_INDEX_MAX_EVENTS: 1_000_000 };
  const children: ReturnType<typeof spawn>[] = [];
  try {
    const log = new IntakeLog(redis, config);
    const ids: string[] = [];
    for (let i = 0; i < total; i += 1) {
      const snapshot = newCustomerEvent(`cus_thinbudget${i.toString(36)}`);
      const notification = emulator.events.addThinFor(snapshot);
      await log.appendThin(snapshot.id, notification.id, JSON.stringify(notification));
      ids.push(snapshot.id);
    }
    const env = {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'development',
      REDIS_URL: redisServer.url,
      QUEUE_PREFIX: config.QUEUE_PREFIX,
      EVENT_INDEX_MAX_EVENTS: String(config.EVENT_INDEX_MAX_EVENTS),
      STRIPE_SECRET_KEY: key,
      STRIPE_API_BASE: emulator.url,
      STRIPE_API_REQUESTS_PER_SECOND: String(limit),
      RECONCILE_INTERVAL_MINUTES: '0',
      // 5 workers × 4 jobs in flight: 20 callers keep a 50/s budget busy (a fetch takes ~10 ms; the rest of a
      // job's time is its turn). More only adds sandbox threads that load the 2-core machine and delay the emulator.
      WORKER_CONCURRENCY: '4',
      JOB_BACKOFF_DELAY_MS: '200',
      LOG_LEVEL: 'warn',
    };
    const started = Date.now();
    for (let i = 0; i < workers; i += 1) {
      children.push(spawn(process.execPath, [path.join(ROOT, 'dist', 'worker', 'main.js')], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'inherit'] }));
    }
    const index = eventIndexFor(redis, config);
    // Bounded: at the limit the run needs total/limit seconds; allow three times that plus a minute.
    const deadline = started + ((total / limit) * 3 + 60) * 1000;
    let failed = 0;
    let processed = 0;
    const pending = new Set(ids);
    const statuses: Record<string, number> = {};
    // Checks at most 200 open events a second: the emulator runs in this process, and a heavy poll would
    // slow its answers (and so the budget's turnover) down.
    while (pending.size && Date.now() < deadline) {
      for (const id of [...pending].slice(0, 200)) {
        const record = await index.get(id);
        if (!record || record.status === 'queued' || record.status === 'processing') continue;
        pending.delete(id);
        processed += 1;
        statuses[record.status] = (statuses[record.status] ?? 0) + 1;
        if (record.status === 'failed' || record.status === 'dead-lettered') failed += 1;
      }
      await pause(1000);
    }
    const rl = emulator.rateLimit;
    const [answered, requestMs, waitMs] = (await redis.hmget(`${config.QUEUE_PREFIX}:{stripe-budget}:stats`, 'answered', 'requestMs', 'waitMs')).map(Number);
    const spanS = (rl.lastAt - rl.firstAt) / 1000;
    return {
      workers, events: total, limitPerSecond: limit, processed, failed, statuses, unfinished: pending.size,
      emulator429: rl.refused, emulatorServed: rl.admitted, emulatorPeakPerSecond: rl.peakPerSecond,
      seconds: Number(spanS.toFixed(1)), budgetUsedPercent: Number(((rl.admitted / (limit * Math.max(spanS, 1))) * 100).toFixed(1)),
      meanRequestMs: Math.round(requestMs! / Math.max(answered!, 1)), meanWaitMs: Math.round(waitMs! / Math.max(answered!, 1)),
    };
  } finally {
    children.forEach((c) => c.kill('SIGTERM'));
    await Promise.all(children.map((c) => (c.exitCode === null && c.signalCode === null ? new Promise((resolve) => c.once('exit', resolve)) : undefined)));
    redis.disconnect();
    await services.stop();
  }
}

/** Run alone: `npm run build && npx tsx bench/scenarios/thin-budget.ts --workers 5 --events 2000 --limit 20`. */
if (require.main === module) {
  const { values } = parseArgs({ options: { workers: { type: 'string' }, events: { type: 'string' }, limit: { type: 'string' } } });
  benchThinBudget({ workers: Number(values.workers ?? 5), perWorker: Number(values.events ?? 2000), limit: Number(values.limit ?? 20) })
    .then((row) => process.stdout.write(`${JSON.stringify(row)}\n`))
    .catch((err: unknown) => {
      process.stderr.write(`${String(err)}\n`);
      process.exit(1);
    });
}
