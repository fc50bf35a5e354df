/**
 * The application metrics one worker publishes to CloudWatch each minute (src/worker/cloudwatch-publisher.ts),
 * and that the stack's alarms and queue-depth scaling read (infra/lib/alarms.ts, .ebextensions). One list,
 * so a renamed metric cannot leave an alarm watching nothing.
 */
export const METRICS_NAMESPACE = 'hooklane';

export const METRIC_NAMES = {
  /** Jobs waiting to start, all queues (and per queue with the Queue dimension). */
  waiting: 'WaitingJobs',
  active: 'ActiveJobs',
  delayed: 'DelayedJobs',
  failed: 'FailedJobs',
  /** Age of the oldest waiting job, seconds. */
  oldestWaitingAge: 'OldestWaitingJobAgeSeconds',
  /** Accepted webhooks not yet turned into jobs by a mover. */
  intakeBacklog: 'IntakeBacklog',
  /** Stripe events that reached a final status in the last minute. */
  eventsProcessed: 'EventsProcessed',
  eventsFailed: 'EventsFailed',
  /** Events in the index's failed set: out of retries, waiting for an operator's replay. */
  deadLettered: 'DeadLetteredEvents',
} as const;

/** Every metric carries the EB environment's name, so stages sharing an account never mix. */
export const ENVIRONMENT_DIMENSION = 'Environment';
export const QUEUE_DIMENSION = 'Queue';
