import { randomUUID } from 'node:crypto';
import { CloudWatchClient, PutMetricDataCommand, type MetricDatum } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { Redis } from 'ioredis';
import pino from 'pino';
import { loadConfig, type Config } from '../../src/config';
import { intakeLogFor } from '../../src/events/intake-log';
import { METRIC_NAMES, METRICS_NAMESPACE } from '../../src/metrics/cloudwatch-metrics';
import { closeQueues, createQueues, QUEUE_NAMES } from '../../src/queues';
import { cloudWatchMetricsDisabledReason, MetricsPublisher } from '../../src/worker/cloudwatch-publisher';
import { startRedis, type TestRedis } from '../support/redis';

const cloudwatch = mockClient(CloudWatchClient);

function datum(data: MetricDatum[], name: string, queue?: string): number | undefined {
  return data.find((d) => d.MetricName === name && (queue ? d.Dimensions?.some((x) => x.Name === 'Queue' && x.Value === queue) : d.Dimensions?.length === 1))?.Value;
}

describe('CloudWatch metrics publisher (one worker per minute publishes queue and event metrics)', () => {
  let server: TestRedis;
  let redis: Redis;
  let config: Config;
  let queues: ReturnType<typeof createQueues>;
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });

  beforeAll(async () => {
    server = await startRedis({ appendOnly: false });
    redis = new Redis(server.url, { maxRetriesPerRequest: null });
  });
  beforeEach(() => {
    cloudwatch.reset();
    cloudwatch.on(PutMetricDataCommand).resolves({});
    config = loadConfig({ NODE_ENV: 'test', REDIS_URL: server.url, QUEUE_PREFIX: `test-${randomUUID()}`, METRICS_ENVIRONMENT: 'hooklane-prod', AWS_REGION: 'eu-west-1' });
    queues = createQueues(config, redis);
  });
  afterEach(async () => {
    for (const q of Object.values(queues)) await q.obliterate({ force: true });
    await closeQueues(queues);
  });
  afterAll(async () => {
    redis.disconnect();
    await server.destroy();
  });

  const publisher = (now: () => number, id = 'a') =>
    new MetricsPublisher({ config, redis, queues, logger, client: new CloudWatchClient({ region: 'eu-west-1' }), now, instanceId: id });

  it('publishes waiting jobs per queue and in total, the oldest waiting job\'s age and the intake backlog, under the hooklane namespace', async () => {
    const t0 = Date.now();
    await queues[QUEUE_NAMES.jobs].add('job', {}, { timestamp: t0 - 90_000 });
    await queues[QUEUE_NAMES.jobs].add('job', {});
    await queues[QUEUE_NAMES.stripeEvents].add('customer.created', {});
    await intakeLogFor(redis, config).append('evt_publisher_1', '{}');

    expect(await publisher(() => t0).publishOnce()).toBe('published');

    const input = cloudwatch.commandCalls(PutMetricDataCommand)[0]!.args[0].input;
    expect(input.Namespace).toBe(METRICS_NAMESPACE);
    const data = input.MetricData!;
    expect(datum(data, METRIC_NAMES.waiting)).toBe(3);
    expect(datum(data, METRIC_NAMES.waiting, QUEUE_NAMES.jobs)).toBe(2);
    expect(datum(data, METRIC_NAMES.waiting, QUEUE_NAMES.stripeEvents)).toBe(1);
    expect(datum(data, METRIC_NAMES.oldestWaitingAge)).toBe(90);
    expect(datum(data, METRIC_NAMES.intakeBacklog)).toBe(1);
    expect(datum(data, METRIC_NAMES.deadLettered)).toBe(0);
    for (const d of data) expect(d.Dimensions).toEqual(expect.arrayContaining([{ Name: 'Environment', Value: 'hooklane-prod' }]));
  });

  it('when three workers try in the same minute, exactly one publishes', async () => {
    // One instant for all three: with the real clock a minute could turn between two of them.
    const instant = Date.now();
    const outcomes = await Promise.all(['a', 'b', 'c'].map((id) => publisher(() => instant, id).publishOnce()));
    expect(outcomes.sort()).toEqual(['not-elected', 'not-elected', 'published']);
    expect(cloudwatch.commandCalls(PutMetricDataCommand)).toHaveLength(1);
  });

  it('when CloudWatch refuses, logs a warning and throws nothing (the next minute tries again)', async () => {
    cloudwatch.on(PutMetricDataCommand).rejects(Object.assign(new Error('not authorized'), { name: 'AccessDenied' }));
    expect(await publisher(() => Date.now()).publishOnce()).toBe('failed');
    expect(lines.some((l) => l.msg === 'could not publish metrics to CloudWatch' && l.level === 40)).toBe(true);
  });

  it('is off without AWS_REGION or with METRICS_CLOUDWATCH=false, and says why', () => {
    const base = { REDIS_URL: server.url };
    expect(cloudWatchMetricsDisabledReason(loadConfig(base))).toMatch(/AWS_REGION/);
    expect(cloudWatchMetricsDisabledReason(loadConfig({ ...base, AWS_REGION: 'eu-west-1', METRICS_CLOUDWATCH: 'false' }))).toMatch(/METRICS_CLOUDWATCH=false/);
    expect(cloudWatchMetricsDisabledReason(loadConfig({ ...base, AWS_REGION: 'eu-west-1' }))).toBeUndefined();
  });
});
