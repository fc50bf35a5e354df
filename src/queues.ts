import { Queue, type DefaultJobOptions, type KeepJobs, type QueueOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from './config';

/** Queue names. A queue's keys live under `${QUEUE_PREFIX}:${name}:*` in Redis. */
export const QUEUE_NAMES = {
  jobs: 'jobs',
  stripeEvents: 'stripe-events',
} as const;
export type QueueName = (typeof QUEUE_NAMES)[keyof typeof QUEUE_NAMES];
export const ALL_QUEUES: readonly QueueName[] = Object.values(QUEUE_NAMES);

/** Job name used for payloads posted to the jobs API. */
export const GENERIC_JOB_NAME = 'job';

/** Payload of a job posted to `POST /api/jobs`: any JSON object. */
export type GenericJobData = Record<string, unknown>;

type JobOptionsConfig = Pick<Config, 'JOB_ATTEMPTS' | 'JOB_BACKOFF_DELAY_MS'>;

/**
 * What each job carries: its attempts and backoff (BullMQ reads both from the job itself). Retention is the
 * worker's (jobRetention): BullMQ keeps each job's options as JSON in its hash for as long as the job, and
 * the retention options were half of those bytes.
 */
export function defaultJobOptions(config: JobOptionsConfig): DefaultJobOptions {
  return {
    attempts: config.JOB_ATTEMPTS,
    backoff: { type: 'exponential', delay: config.JOB_BACKOFF_DELAY_MS },
  };
}

export type JobRetentionConfig = Pick<Config, 'JOB_REMOVE_ON_COMPLETE_AGE_SECONDS' | 'JOB_REMOVE_ON_FAIL_AGE_SECONDS' | 'JOB_REMOVE_COUNT_LIMIT'>;

/**
 * Retention by age (an hour for completed, a day for failed, as BullMQ advises) with a count cap as a
 * backstop, so Redis memory stays bounded whatever the volume. Given to every Worker: BullMQ applies a
 * worker's removeOnComplete/removeOnFail to each job that finishes there without options of its own (a job
 * queued with its own, such as a reconcile run's or one queued before this moved here, keeps them).
 */
export function jobRetention(config: JobRetentionConfig): { removeOnComplete: KeepJobs; removeOnFail: KeepJobs } {
  return {
    removeOnComplete: { age: config.JOB_REMOVE_ON_COMPLETE_AGE_SECONDS, count: config.JOB_REMOVE_COUNT_LIMIT },
    removeOnFail: { age: config.JOB_REMOVE_ON_FAIL_AGE_SECONDS, count: config.JOB_REMOVE_COUNT_LIMIT },
  };
}

export function queueOptions(config: Config, connection: Redis): QueueOptions {
  return {
    connection,
    prefix: config.QUEUE_PREFIX,
    defaultJobOptions: defaultJobOptions(config),
    // The events stream is capped (approximately) so it cannot grow with traffic.
    streams: { events: { maxLen: config.QUEUE_EVENTS_MAX_LEN } },
  };
}

export type Queues = Record<QueueName, Queue>;

/** One Queue object per queue name, all over the same (producer) connection. */
export function createQueues(config: Config, connection: Redis): Queues {
  const entries = ALL_QUEUES.map((name) => [name, new Queue(name, queueOptions(config, connection))] as const);
  return Object.fromEntries(entries) as Queues;
}

export async function closeQueues(queues: Queues): Promise<void> {
  await Promise.allSettled(Object.values(queues).map((q) => q.close()));
}
