import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { startEmbeddedRedis } from '../../src/dev/embedded-redis';
import { startStripeEmulator } from '../../src/dev/stripe-emulator';
import { buildStripeEvent } from '../../src/dev/stripe-event-builder';
import { eventIndexFor } from '../../src/events/event-index';
import { IntakeLog } from '../../src/events/intake-log';

/**
 * The shared Stripe API budget under load: W worker processes (dist/worker/main.js) fetch N thin events
 * each through the emulator, which answers 429 above its limit; STRIPE_API_REQUESTS_PER_SECOND is that
 * limit. Reports: events failed, the emulator's 429s and peak per second, and the budget used
 * (requests served / (limit × seconds from the first request to the last)).
 * Run: `npx tsc -p tsconfig.build.json && npx tsx bench/scenarios/thin-budget.ts --workers 5 --events 2000 --limit 20`
 */
async function main(): Promise<void> {
  const { values } = parseArgs({ options: { workers: { type: 'string' }, events: { type: 'string' }, limit: { type: 'string' } } });
  const workers = Number(values.workers ?? 5);
  const perWorker = Number(values.events ?? 2000);
  const limit = Number(values.limit ?? 20);
  const total = workers * perWorker;
  const redisServer = await startEmbeddedRedis({ dataDir: mkdtempSync(path.join(tmpdir(), 'thin-budget-')), appendOnly: false });
  const key = 'sk_test_thinbudgetbench01';
  const emulator = await startStripeEmulator({ secretKey: key, rateLimitPerSecond: limit });
  const redis = new Redis(redisServer.url, { maxRetriesPerRequest: null });
  const config = { QUEUE_PREFIX: 'thinbench', EVENT_INDEX_RETENTION_DAYS: 30, EVENT_INDEX_MAX_EVENTS: 1_000_000 };
  const log = new IntakeLog(redis, config);
  const ids: string[] = [];
  for (let i = 0; i < total; i += 1) {
    const snapshot = buildStripeEvent('customer.created');
    const notification = emulator.events.addThinFor(snapshot);
    await log.appendThin(snapshot.id, notification.id, JSON.stringify(notification));
    ids.push(snapshot.id);
  }
  const env = {
    ...process.env,
    NODE_ENV: 'development',
    REDIS_URL: redisServer.url,
    QUEUE_PREFIX: config.QUEUE_PREFIX,
    EVENT_INDEX_MAX_EVENTS: String(config.EVENT_INDEX_MAX_EVENTS),
    STRIPE_SECRET_KEY: key,
    STRIPE_API_BASE: emulator.url,
    STRIPE_API_REQUESTS_PER_SECOND: String(limit),
    RECONCILE_INTERVAL_MINUTES: '0',
    WORKER_CONCURRENCY: '20',
    JOB_BACKOFF_DELAY_MS: '200',
    LOG_LEVEL: 'warn',
  };
  const started = Date.now();
  const children = Array.from({ length: workers }, () =>
    spawn(process.execPath, [path.resolve(__dirname, '../../dist/worker/main.js')], { env, stdio: ['ignore', 'ignore', 'inherit'] }),
  );
  const index = eventIndexFor(redis, config);
  // Bounded: at the limit the run needs total/limit seconds; allow three times that plus a minute.
  const deadline = started + ((total / limit) * 3 + (total < 100 ? 15 : 60)) * 1000;
  let done = 0;
  let failed = 0;
  const pending = new Set(ids);
  // Checks in the order the events were queued and stops at the first unfinished one: the emulator runs in
  // this process, and a heavy poll would slow its answers (and so the budget's turnover) down.
  const statuses: Record<string, number> = {};
  while (pending.size && Date.now() < deadline) {
    for (const id of [...pending].slice(0, 200)) {
      const record = await index.get(id);
      if (!record || record.status === 'queued' || record.status === 'processing') continue;
      pending.delete(id);
      done += 1;
      statuses[record.status] = (statuses[record.status] ?? 0) + 1;
      if (record.status === 'failed') failed += 1;
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  process.stderr.write(`first record: ${JSON.stringify(await index.get(ids[0]!))} job: ${JSON.stringify(await redis.hgetall(`thinbench:stripe-events:${ids[0]}`)).slice(0, 600)}\n`);
  const rl = emulator.rateLimit;
  const spanS = (rl.lastAt - rl.firstAt) / 1000;
  const result = {
    workers, events: total, limitPerSecond: limit, processed: done, failed, statuses, unfinished: pending.size,
    emulator429: rl.refused, emulatorServed: rl.admitted, emulatorPeakPerSecond: rl.peakPerSecond,
    seconds: Number(spanS.toFixed(1)), budgetUsedPercent: Number(((rl.admitted / (limit * Math.max(spanS, 1))) * 100).toFixed(1)),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  children.forEach((c) => c.kill('SIGTERM'));
  await Promise.all(children.map((c) => new Promise((resolve) => c.once('exit', resolve))));
  redis.disconnect();
  await emulator.stop();
  await redisServer.stop();
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
