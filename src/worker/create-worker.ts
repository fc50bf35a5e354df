import { MetricsTime, Worker, type Processor, type WorkerOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '../config';
import { eventIndexFor } from '../events/event-index';
import type { Logger } from '../logger';
import { jobRetention, QUEUE_NAMES, type JobRetentionConfig } from '../queues';
import { STRIPE_EVENT_HANDLERS } from './handlers';
import { OrderedWorker } from './ordering/lease-in-main-thread';
import { orderingFromConfig } from './ordering/ordering-runtime';
import type { ProcessorRegistration } from './processor-registry';

type WorkerConfig = Pick<
  Config,
  | 'QUEUE_PREFIX' | 'WORKER_CONCURRENCY' | 'WORKER_SANDBOX' | 'WORKER_STALLED_INTERVAL_MS' | 'WORKER_LOCK_DURATION_MS' | 'METRICS_ENABLED'
  | 'ORDERING_ENABLED' | 'ORDERING_LEASE_MS' | 'ORDERING_STEP_ASIDE_MS' | 'ORDERING_MEMORY_HOURS' | 'EVENT_INDEX_RETENTION_DAYS' | 'EVENT_INDEX_MAX_EVENTS'
> & JobRetentionConfig;

export function workerOptions(config: WorkerConfig, connection: Redis): WorkerOptions {
  return {
    connection,
    prefix: config.QUEUE_PREFIX,
    concurrency: config.WORKER_CONCURRENCY,
    useWorkerThreads: config.WORKER_SANDBOX === 'thread',
    stalledInterval: config.WORKER_STALLED_INTERVAL_MS,
    lockDuration: config.WORKER_LOCK_DURATION_MS,
    maxStalledCount: 1,
    // Retention lives here rather than in every job's options (bytes kept per job): see jobRetention.
    ...jobRetention(config),
    // Per-minute completed/failed counts for the console's throughput chart; a fixed-size list per queue.
    // Two small Redis commands per job (~1 µs of Redis); METRICS_ENABLED=false leaves the chart empty.
    ...(config.METRICS_ENABLED ? { metrics: { maxDataPoints: MetricsTime.ONE_WEEK } } : {}),
  };
}

function processorFor(config: WorkerConfig, registration: ProcessorRegistration): string | Processor {
  if (config.WORKER_SANDBOX !== 'none') return registration.file;
  return registration.load();
}

/**
 * The stripe-events worker takes each event's object lease in its main thread (src/worker/ordering): the
 * processor, sandboxed or not, only runs the handler.
 */
function newWorker(config: WorkerConfig, logger: Logger, connection: Redis, registration: ProcessorRegistration): Worker {
  const processor = processorFor(config, registration);
  const options = workerOptions(config, connection);
  if (registration.queue !== QUEUE_NAMES.stripeEvents || !config.ORDERING_ENABLED) return new Worker(registration.queue, processor, options);
  const index = eventIndexFor(connection, config);
  const ordering = orderingFromConfig(config, connection, logger, {
    handles: (type) => STRIPE_EVENT_HANDLERS.get(type) !== undefined,
    loadPayload: (eventId) => index.payload(eventId),
  });
  return new OrderedWorker(registration.queue, processor, options, ordering);
}

/** A BullMQ Worker for one queue, with its events logged under the job's id. */
export function createWorker(
  config: WorkerConfig,
  logger: Logger,
  connection: Redis,
  registration: ProcessorRegistration,
): Worker {
  const worker = newWorker(config, logger, connection, registration);
  const log = logger.child({ queue: registration.queue });
  // Debug: at thousands of jobs a second a line per success is noise and CPU; failures stay at warn.
  if (log.isLevelEnabled('debug')) worker.on('completed', (job) => log.debug({ jobId: job.id, attemptsMade: job.attemptsMade }, 'job completed'));
  worker.on('failed', (job, err) => {
    const attempts = job?.opts.attempts ?? 1;
    const willRetry = !!job && job.attemptsMade < attempts && err.name !== 'UnrecoverableError';
    log.warn({ jobId: job?.id, attemptsMade: job?.attemptsMade, willRetry, err: err.message }, 'job failed');
  });
  worker.on('stalled', (jobId) => log.warn({ jobId }, 'job stalled; it will be retried'));
  worker.on('error', (err) => log.error({ err: err.message }, 'worker error'));
  return worker;
}
