import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { startStripeBenchServices } from '../lib/stripe-services';
import { buildStripeEvent } from '../../src/dev/stripe-event-builder';
import { StripeApiBudget } from '../../src/stripe/stripe-api-budget';
import { createStripeClient } from '../../src/stripe/stripe-client';

export interface BudgetAloneRow {
  limitPerSecond: number;
  served: number;
  /** Requests the emulator answered 429. Must be 0. */
  emulator429: number;
  emulatorPeakPerSecond: number;
  /** Requests served / (limit × seconds from the first request to the last). */
  budgetUsedPercent: number;
  meanRequestMs: number;
  meanWaitMs: number;
}

/**
 * The shared budget without the worker pipeline around it: 5 budgets (each its own Redis connection and
 * stripe-node client without retries, as 5 workers have) and 100 concurrent callers send `requests`
 * `GET /v1/events/:id` through the emulator, which answers 429 above `limit`. Shows what the budget itself
 * allows when the callers always have a request ready. Its own Redis and emulator; bounded by `requests`.
 */
export async function benchBudgetAlone(plan: { limit: number; requests: number }): Promise<BudgetAloneRow> {
  const { limit, requests } = plan;
  const services = await startStripeBenchServices('budget-alone', limit);
  const { redis: server, emulator, key } = services;
  const budgets = Array.from({ length: 5 }, () => {
    const redis = new Redis(server.url, { maxRetriesPerRequest: null });
    const stripe = createStripeClient({ STRIPE_SECRET_KEY: key, STRIPE_API_BASE: emulator.url, STRIPE_API_TIMEOUT_MS: 5000 }, { maxNetworkRetries: 0 });
    return { redis, stripe, budget: new StripeApiBudget(redis, { perSecond: limit, keyPrefix: 'alone' }) };
  });
  try {
    const ids = Array.from({ length: requests }, () => emulator.events.add(buildStripeEvent('customer.created')).id);
    let next = 0;
    await Promise.all(Array.from({ length: 100 }, async (_, caller) => {
      const { budget, stripe } = budgets[caller % budgets.length]!;
      for (let id = ids[next++]; id !== undefined; id = ids[next++]) await budget.run(() => stripe.events.retrieve(id!));
    }));
    const rl = emulator.rateLimit;
    const spanS = Math.max((rl.lastAt - rl.firstAt) / 1000, 1);
    const [answered, requestMs, waitMs] = (await budgets[0]!.redis.hmget('alone:{stripe-budget}:stats', 'answered', 'requestMs', 'waitMs')).map(Number);
    return {
      limitPerSecond: limit, served: rl.admitted, emulator429: rl.refused, emulatorPeakPerSecond: rl.peakPerSecond,
      budgetUsedPercent: Number(((rl.admitted / (limit * spanS)) * 100).toFixed(1)),
      meanRequestMs: Math.round(requestMs! / Math.max(answered!, 1)), meanWaitMs: Math.round(waitMs! / Math.max(answered!, 1)),
    };
  } finally {
    budgets.forEach((b) => b.redis.disconnect());
    await services.stop();
  }
}

/** Run alone: `npx tsx bench/scenarios/budget-alone.ts --limit 50 --requests 1000`. */
if (require.main === module) {
  const { values } = parseArgs({ options: { limit: { type: 'string' }, requests: { type: 'string' } } });
  benchBudgetAlone({ limit: Number(values.limit ?? 50), requests: Number(values.requests ?? 1000) })
    .then((row) => process.stdout.write(`${JSON.stringify(row)}\n`))
    .catch((err: unknown) => {
      process.stderr.write(`${String(err)}\n`);
      process.exit(1);
    });
}
