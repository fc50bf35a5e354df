import { Job, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '../../config';
import type { Logger } from '../../logger';
import { QUEUE_NAMES } from '../../queues';
import { ObjectOrder, orderingBase } from './object-order';
import type { MainThreadOrdering } from './lease-in-main-thread';

/** A wake tries this many times, a step apart, to find the next job delayed. */
const WAKE_TRIES = 3;

type OrderingConfig = Pick<Config, 'QUEUE_PREFIX' | 'ORDERING_LEASE_MS' | 'ORDERING_STEP_ASIDE_MS' | 'ORDERING_MEMORY_HOURS'>;

/** The ordering keys' options for the stripe-events queue. */
export function objectOrderFor(redis: Redis, config: OrderingConfig): ObjectOrder {
  return new ObjectOrder(redis, {
    base: orderingBase(config.QUEUE_PREFIX),
    jobKeyPrefix: `${config.QUEUE_PREFIX}:${QUEUE_NAMES.stripeEvents}:`,
    leaseMs: config.ORDERING_LEASE_MS,
    ttlSeconds: config.ORDERING_MEMORY_HOURS * 3600,
  });
}

/**
 * Ordering as the worker's main thread runs it (OrderedWorker), on the worker's connection. Waking the next job
 * in line is BullMQ's `promote` (delayed → waiting).
 */
export function orderingFromConfig(
  config: OrderingConfig,
  connection: Redis,
  logger: Logger,
  events: Pick<MainThreadOrdering, 'handles' | 'loadPayload'>,
): MainThreadOrdering {
  let queue: Queue | undefined;
  return {
    order: objectOrderFor(connection, config),
    stepAsideMs: config.ORDERING_STEP_ASIDE_MS,
    logger,
    handles: events.handles,
    loadPayload: events.loadPayload,
    wake: async (jobId) => {
      queue ??= new Queue(QUEUE_NAMES.stripeEvents, { connection, prefix: config.QUEUE_PREFIX });
      for (let tries = 0; tries < WAKE_TRIES; tries += 1) {
        const job = await Job.fromId(queue, jobId);
        if (!job) return;
        try {
          await job.promote();
          return;
        } catch {
          // Not delayed: waiting already (it comes on its own), or active, stepping aside this very moment (its
          // move to the delayed set is on its way): then tried again a step later.
          if ((await job.getState()) !== 'active') return;
        }
        await new Promise((resolve) => setTimeout(resolve, config.ORDERING_STEP_ASIDE_MS));
      }
    },
  };
}
