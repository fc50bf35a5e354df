import type { Worker } from 'bullmq';
import { loadConfigOrExit } from '../config';
import { exitOnUncaught, onTerminationSignals, runShutdownSteps } from '../lifecycle';
import { createLogger } from '../logger';
import { startMetricsServerIfConfigured } from '../metrics/metrics-server';
import { collectQueueDepthsFrom, metricsRegistryFor } from '../metrics/prometheus';
import { startTracing, stopTracing } from '../telemetry/tracing';
import { assertNoEviction, createRedis, logRedisErrors, waitForRedis } from '../redis';
import { eventIndexFor } from '../events/event-index';
import { closeQueues, createQueues, QUEUE_NAMES } from '../queues';
import { createWorker } from './create-worker';
import { EventStatusRecorder, recordEventStatuses } from './event-status-recorder';
import { startIndexSweep } from './index-sweep';
import { startIntakeMover } from './intake-mover';
import { startMetricsPublisher } from './cloudwatch-publisher';
import { STRIPE_EVENT_HANDLERS } from './handlers';
import { observeEventJobs, queueDepthReader } from './prometheus-metrics';
import { PROCESSORS } from './processor-registry';
import { startReconciliation } from './reconcile-schedule';

/** Lets active jobs finish; past the deadline, what is left is recovered by another worker's stalled check. */
async function drainWorkers(workers: Worker[], timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  const closed = Promise.all(workers.map((w) => w.close())).then(() => 'closed' as const);
  const outcome = await Promise.race([closed, deadline]);
  clearTimeout(timer);
  if (outcome === 'timeout') {
    throw new Error(`active jobs did not finish within ${timeoutMs} ms; they will be recovered as stalled`);
  }
}

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const logger = createLogger({ level: config.LOG_LEVEL, name: 'worker' });
  exitOnUncaught(logger);
  // One trace per event when an OTLP endpoint is set (docs/operations.md#tracing); otherwise the SDK is never loaded.
  if (startTracing(config, 'worker', { logger })) logger.info({ serviceName: config.OTEL_SERVICE_NAME ?? 'hooklane-worker' }, 'tracing on: spans exported over OTLP/HTTP');

  const connection = createRedis(config, 'worker');
  logRedisErrors(connection, logger);
  await waitForRedis(connection, config.REDIS_BOOT_TIMEOUT_MS, { redisUrl: config.REDIS_URL, logger });
  await assertNoEviction(connection);

  // The event index follows the stripe-events jobs from here, in batches, on the worker's connection.
  const recorder = new EventStatusRecorder(eventIndexFor(connection, config), logger, { flushAfterMs: config.EVENT_STATUS_FLUSH_MS });
  const workers = PROCESSORS.map((registration) => {
    const worker = createWorker(config, logger, connection, registration);
    if (registration.queue === QUEUE_NAMES.stripeEvents) {
      recordEventStatuses(worker, recorder);
      observeEventJobs(worker, (type) => STRIPE_EVENT_HANDLERS.get(type)?.type);
    }
    return worker;
  });
  // Accepted webhooks wait in the intake log until a worker's mover turns them into jobs.
  const mover = startIntakeMover(config, connection, logger);
  // Once a minute one worker (a Redis lock elects it) sends queue and event metrics to CloudWatch.
  const metricsQueues = createQueues(config, connection);
  const metrics = startMetricsPublisher({ config, redis: connection, queues: metricsQueues, logger });
  // Prometheus: GET /metrics on METRICS_PORT (loopback); queue depths are read from Redis on each scrape.
  collectQueueDepthsFrom(queueDepthReader(config, connection, metricsQueues), config.METRICS_COLLECT_TIMEOUT_MS);
  const metricsServer = await startMetricsServerIfConfigured(config, () => metricsRegistryFor('worker'), logger);
  // Whatever dies on the way (this process, Redis), the index converges to the jobs' outcomes.
  const sweep = startIndexSweep(config, connection, logger);
  // Recovers what Stripe could not deliver, on a schedule shared by every worker (RECONCILE_INTERVAL_MINUTES).
  const reconciliation = await startReconciliation(config, connection, logger);
  logger.info(
    { queues: PROCESSORS.map((p) => p.queue), concurrency: config.WORKER_CONCURRENCY, sandbox: config.WORKER_SANDBOX },
    'worker started',
  );

  onTerminationSignals(logger, config.WORKER_SHUTDOWN_TIMEOUT_MS + 3000, () =>
    runShutdownSteps(
      [
        { name: 'stop moving accepted webhooks', run: () => mover.stop() },
        { name: 'stop reconciling', run: () => reconciliation.stop() },
        { name: 'stop publishing metrics', run: () => metrics.stop() },
        { name: 'stop serving metrics', run: async () => metricsServer?.close() },
        { name: 'drain active jobs', run: () => drainWorkers(workers, config.WORKER_SHUTDOWN_TIMEOUT_MS) },
        { name: 'write event statuses', run: () => recorder.flush() },
        { name: 'close metrics queues', run: () => closeQueues(metricsQueues) },
        { name: 'stop the index sweep', run: () => sweep.stop() },
        { name: 'close redis', run: () => connection.quit() },
        { name: 'flush traces', run: () => stopTracing() },
      ],
      logger,
    ),
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`${JSON.stringify({ level: 'fatal', msg: 'worker failed to start', err: err instanceof Error ? err.message : String(err) })}\n`);
  process.exit(1);
});
