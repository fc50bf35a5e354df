import { randomUUID } from 'node:crypto';
import { CloudWatchClient, PutMetricDataCommand, type Dimension, type MetricDatum } from '@aws-sdk/client-cloudwatch';
import type { Redis } from 'ioredis';
import type { Config } from '../config';
import { eventIndexBase, intakeLogFor } from '../events/intake-log';
import type { Logger } from '../logger';
import { ENVIRONMENT_DIMENSION, METRIC_NAMES, METRICS_NAMESPACE, QUEUE_DIMENSION } from '../metrics/cloudwatch-metrics';
import { ALL_QUEUES, QUEUE_NAMES, type Queues } from '../queues';

export type PublisherConfig = Pick<
  Config,
  'QUEUE_PREFIX' | 'EVENT_INDEX_RETENTION_DAYS' | 'METRICS_ENABLED' | 'METRICS_CLOUDWATCH' | 'METRICS_ENVIRONMENT' | 'AWS_REGION'
>;

export interface MetricsPublisherDeps {
  config: PublisherConfig;
  redis: Redis;
  queues: Queues;
  logger: Logger;
  /** Anything with PutMetricData's `send`: a CloudWatchClient, a mocked one in tests. */
  client: Pick<CloudWatchClient, 'send'>;
  now?: () => number;
  /** Who holds the minute's lock, for the log; random by default. */
  instanceId?: string;
}

export const PUBLISH_INTERVAL_MS = 60_000;
/** Shorter than the interval, so the next minute's election is open again whatever the clocks say. */
const LOCK_TTL_MS = 55_000;

/** Why CloudWatch metrics are off, or undefined when they are on. */
export function cloudWatchMetricsDisabledReason(config: PublisherConfig): string | undefined {
  if (!config.METRICS_CLOUDWATCH) return 'METRICS_CLOUDWATCH=false';
  if (!config.AWS_REGION) return 'AWS_REGION is not set (not on AWS)';
  return undefined;
}

/**
 * Once a minute every worker tries to take a Redis lock (SET NX PX); the one that gets it reads the queues,
 * the intake log and the event index and sends one PutMetricData: N workers publish once, and a dead
 * worker's minute is taken by another.
 */
export class MetricsPublisher {
  private readonly now: () => number;
  private readonly id: string;
  private readonly lockKey: string;

  constructor(private readonly deps: MetricsPublisherDeps) {
    this.now = deps.now ?? Date.now;
    this.id = deps.instanceId ?? randomUUID();
    this.lockKey = `${deps.config.QUEUE_PREFIX}:cloudwatch-publisher`;
  }

  async publishOnce(): Promise<'published' | 'not-elected' | 'failed'> {
    try {
      const elected = await this.deps.redis.set(this.lockKey, this.id, 'PX', LOCK_TTL_MS, 'NX');
      if (elected !== 'OK') return 'not-elected';
      const data = await this.collect();
      await this.deps.client.send(new PutMetricDataCommand({ Namespace: METRICS_NAMESPACE, MetricData: data }));
      return 'published';
    } catch (err) {
      this.deps.logger.warn({ err: (err as Error).message, name: (err as Error).name }, 'could not publish metrics to CloudWatch');
      return 'failed';
    }
  }

  private async collect(): Promise<MetricDatum[]> {
    const { config, queues, redis } = this.deps;
    const timestamp = new Date(this.now());
    const environment: Dimension = { Name: ENVIRONMENT_DIMENSION, Value: config.METRICS_ENVIRONMENT };
    const data: MetricDatum[] = [];
    const add = (name: string, value: number, unit: MetricDatum['Unit'], queue?: string) =>
      data.push({
        MetricName: name,
        Value: value,
        Unit: unit,
        Timestamp: timestamp,
        Dimensions: queue ? [environment, { Name: QUEUE_DIMENSION, Value: queue }] : [environment],
      });

    const totals = { waiting: 0, active: 0, delayed: 0, failed: 0 };
    let oldestWaitingMs = 0;
    for (const name of ALL_QUEUES) {
      const queue = queues[name];
      const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed');
      for (const key of Object.keys(totals) as (keyof typeof totals)[]) {
        totals[key] += counts[key] ?? 0;
        add(METRIC_NAMES[key], counts[key] ?? 0, 'Count', name);
      }
      // Oldest first: the next job a worker takes.
      const [oldest] = await queue.getJobs(['waiting'], 0, 0, true);
      if (oldest) oldestWaitingMs = Math.max(oldestWaitingMs, this.now() - oldest.timestamp);
    }
    for (const key of Object.keys(totals) as (keyof typeof totals)[]) add(METRIC_NAMES[key], totals[key], 'Count');
    add(METRIC_NAMES.oldestWaitingAge, Math.round(oldestWaitingMs / 1000), 'Seconds');
    add(METRIC_NAMES.intakeBacklog, (await intakeLogFor(redis, config).backlog()).waiting, 'Count');
    // The event index's failed set: events out of retries (a member that later succeeded is dropped by the
    // next failed listing, so this can briefly overcount, never undercount).
    add(METRIC_NAMES.deadLettered, await redis.zcard(`${eventIndexBase(config.QUEUE_PREFIX)}:idx:status:failed`), 'Count');
    if (config.METRICS_ENABLED) {
      // BullMQ's per-minute counters (METRICS_ENABLED), newest minute first.
      const events = queues[QUEUE_NAMES.stripeEvents];
      add(METRIC_NAMES.eventsProcessed, (await events.getMetrics('completed', 0, 0)).data[0] ?? 0, 'Count');
      add(METRIC_NAMES.eventsFailed, (await events.getMetrics('failed', 0, 0)).data[0] ?? 0, 'Count');
    }
    return data;
  }
}

/** Starts publishing every minute, or says once why it does not; `stop()` ends it. */
export function startMetricsPublisher(
  deps: Omit<MetricsPublisherDeps, 'client'> & { client?: MetricsPublisherDeps['client'] },
): { stop(): void } {
  const reason = cloudWatchMetricsDisabledReason(deps.config);
  if (reason) {
    deps.logger.info({ reason }, 'CloudWatch metrics are off');
    return { stop: () => undefined };
  }
  const publisher = new MetricsPublisher({ ...deps, client: deps.client ?? new CloudWatchClient({ region: deps.config.AWS_REGION }) });
  const timer = setInterval(() => void publisher.publishOnce(), PUBLISH_INTERVAL_MS);
  timer.unref();
  deps.logger.info({ namespace: METRICS_NAMESPACE, environment: deps.config.METRICS_ENVIRONMENT }, 'CloudWatch metrics on');
  return { stop: () => clearInterval(timer) };
}
