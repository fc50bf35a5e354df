import { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { stripeRequestsPerSecond, type Config } from '../config';
import { intakeLogFor } from '../events/intake-log';
import type { Logger } from '../logger';
import { queueOptions } from '../queues';
import { Reconciler } from '../stripe/reconciler';
import { RECONCILE_JOB, RECONCILE_QUEUE, RECONCILE_SCHEDULER_ID, type ReconcileJobData } from '../stripe/reconcile-queue';
import { StripeApiBudget } from '../stripe/stripe-api-budget';
import { createStripeClient } from '../stripe/stripe-client';
import { StripeFetcher } from '../stripe/stripe-fetcher';

/**
 * Reconciliation in a worker process: the job scheduler (one fixed id, so N workers and rolling deploys
 * upsert the same schedule, never a second one) and a worker for its queue, one run at a time per process.
 * Two runs that overlap (on demand during a scheduled one) are harmless: the intake drops what it knows.
 */
export async function startReconciliation(config: Config, connection: Redis, logger: Logger): Promise<{ stop(): Promise<void> }> {
  const queue = new Queue(RECONCILE_QUEUE, { ...queueOptions(config, connection), defaultJobOptions: { attempts: 1, removeOnComplete: 100, removeOnFail: 100 } });
  const log = logger.child({ queue: RECONCILE_QUEUE });
  if (config.RECONCILE_INTERVAL_MINUTES > 0 && config.STRIPE_SECRET_KEY) {
    await queue.upsertJobScheduler(RECONCILE_SCHEDULER_ID, { every: config.RECONCILE_INTERVAL_MINUTES * 60_000 }, {
      name: RECONCILE_JOB,
      data: { trigger: 'scheduled' } satisfies ReconcileJobData,
    });
  } else {
    await queue.removeJobScheduler(RECONCILE_SCHEDULER_ID);
  }
  if (!config.STRIPE_SECRET_KEY) {
    log.info('STRIPE_SECRET_KEY is not set: no reconciliation');
    return { stop: () => queue.close() };
  }
  const budget = new StripeApiBudget(connection, {
    perSecond: stripeRequestsPerSecond(config),
    keyPrefix: config.QUEUE_PREFIX,
    sendDelayBoundMs: config.STRIPE_API_SEND_DELAY_BOUND_MS,
  });
  const fetcher = new StripeFetcher(createStripeClient(config, { maxNetworkRetries: 0 }), budget, connection, config.QUEUE_PREFIX);
  const reconciler = new Reconciler({
    listEvents: (params) => fetcher.listEvents(params),
    intake: intakeLogFor(connection, config),
    redis: connection,
    keyPrefix: config.QUEUE_PREFIX,
    logger: log,
  });
  const worker = new Worker<ReconcileJobData>(
    RECONCILE_QUEUE,
    async (job) => reconciler.run({ ...(job.data.since !== undefined ? { since: job.data.since } : {}), trigger: job.data.trigger }),
    // A run lists many pages at the budget's pace: a long lock, renewed by BullMQ while it runs.
    { connection, prefix: config.QUEUE_PREFIX, concurrency: 1, lockDuration: 60_000 },
  );
  worker.on('failed', (job, err) => log.warn({ jobId: job?.id, err: err.message }, 'reconciliation run failed'));
  return {
    stop: async () => {
      await worker.close();
      await queue.close();
    },
  };
}
