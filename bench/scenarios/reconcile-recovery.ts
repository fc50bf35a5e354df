import { parseArgs } from 'node:util';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import pino from 'pino';
import { startStripeBenchServices } from '../lib/stripe-services';
import { buildStripeEvent } from '../../src/dev/stripe-event-builder';
import { eventIndexFor } from '../../src/events/event-index';
import { IntakeLog } from '../../src/events/intake-log';
import { Reconciler } from '../../src/stripe/reconciler';
import { StripeApiBudget } from '../../src/stripe/stripe-api-budget';
import { createStripeClient } from '../../src/stripe/stripe-client';
import { StripeFetcher } from '../../src/stripe/stripe-fetcher';
import { IntakeMover } from '../../src/worker/intake-mover';

export interface ReconcileRow {
  /** Events Stripe generated that the web never saw (undelivered in the emulator). */
  events: number;
  /** The shared budget (the default in test mode) and the emulator's limit (429 above it). */
  limitPerSecond: number;
  recovered: number;
  listed: number;
  /** The first run, from its start to its end. */
  seconds: number;
  /** A second run over the same window: must recover nothing. */
  secondRunRecovered: number;
  /** Intake log entries the mover turned into jobs, and the jobs in the queue: both must equal `events`. */
  moved: number;
  jobs: number;
  emulator429: number;
  requests: number;
}

/**
 * Reconciliation's recovery: `count` events the web never saw (undelivered in the emulator), recovered at
 * the default test-mode budget (10 requests/s) with the emulator answering 429 above `limit`; a second run
 * recovers nothing, and every event becomes exactly one job (none processed twice). Own Redis and emulator.
 */
export async function benchReconcileRecovery(plan: { count: number; limit: number }): Promise<ReconcileRow> {
  const { count, limit } = plan;
  const services = await startStripeBenchServices('reconcile-bench', limit);
  const { redis: server, emulator, key } = services;
  const redis = new Redis(server.url, { maxRetriesPerRequest: null });
  const config = { QUEUE_PREFIX: 'reconbench', EVENT_INDEX_RETENTION_DAYS: 30, EVENT_INDEX_MAX_EVENTS: 1_000_000 };
  const queue = new Queue('stripe-events', { connection: redis, prefix: config.QUEUE_PREFIX });
  try {
    const now = Math.floor(Date.now() / 1000);
    for (let i = 0; i < count; i += 1) emulator.events.add(buildStripeEvent('customer.created', { created: now - Math.floor(i / 50) }), { delivered: false });
    const stripe = createStripeClient({ STRIPE_SECRET_KEY: key, STRIPE_API_BASE: emulator.url, STRIPE_API_TIMEOUT_MS: 10_000 }, { maxNetworkRetries: 0 });
    const budget = new StripeApiBudget(redis, { perSecond: limit, keyPrefix: config.QUEUE_PREFIX });
    const fetcher = new StripeFetcher(stripe, budget, redis, config.QUEUE_PREFIX);
    const log = new IntakeLog(redis, config);
    const logger = pino({ level: 'warn' });
    const reconciler = new Reconciler({ listEvents: (p) => fetcher.listEvents(p), intake: log, redis, keyPrefix: config.QUEUE_PREFIX, logger });
    const started = performance.now();
    const first = await reconciler.run({ since: now - 86_400 });
    const seconds = (performance.now() - started) / 1000;
    const second = await reconciler.run({ since: now - 86_400 });
    const mover = new IntakeMover({ reader: log, log, index: eventIndexFor(redis, config), queue, logger, consumer: 'bench' });
    let moved = 0;
    // Bounded: the mover takes batches; stop when a pass moves nothing.
    for (let pass = 0; pass < 1000; pass += 1) {
      const n = await mover.moveAvailable();
      moved += n;
      if (n === 0) break;
    }
    const jobs = await queue.count();
    return {
      events: count, limitPerSecond: limit, recovered: first.recovered, listed: first.listed, seconds: Number(seconds.toFixed(1)),
      secondRunRecovered: second.recovered, moved, jobs, emulator429: emulator.rateLimit.refused, requests: emulator.rateLimit.admitted,
    };
  } finally {
    await queue.close();
    redis.disconnect();
    await services.stop();
  }
}

/** Run alone: `npx tsx bench/scenarios/reconcile-recovery.ts --events 10000`. */
if (require.main === module) {
  const { values } = parseArgs({ options: { events: { type: 'string' }, limit: { type: 'string' } } });
  benchReconcileRecovery({ count: Number(values.events ?? 10_000), limit: Number(values.limit ?? 10) })
    .then((row) => process.stdout.write(`${JSON.stringify(row)}\n`))
    .catch((err: unknown) => {
      process.stderr.write(`${String(err)}\n`);
      process.exit(1);
    });
}
