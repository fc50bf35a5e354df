import pino from 'pino';
import { Counter, Histogram, Registry } from 'prom-client';
import { loadConfig } from '../../../src/config';
import { HotCounter, HotHistogram } from '../../../src/metrics/hot-path-metrics';
import { startMetricsServerIfConfigured } from '../../../src/metrics/metrics-server';
import {
  collectQueueDepthsFrom,
  eventTypeLabel,
  metricsRegistryFor,
  observeLeaseWait,
  recordEventJob,
  recordOutOfOrder,
  recordSuperseded,
} from '../../../src/metrics/prometheus';
import { parsePrometheusText, sampleValue } from '../../support/prometheus-text';

const logger = pino({ level: 'silent' });
const worker = async () => parsePrometheusText(await metricsRegistryFor('worker').metrics());

describe('the worker\'s Prometheus metrics', () => {
  test('the ordering metrics move when recorded, labelled by type only', async () => {
    recordSuperseded('customer.subscription.updated');
    recordOutOfOrder('customer.subscription.updated');
    recordOutOfOrder('customer.subscription.updated');
    observeLeaseWait(0.2);
    const metrics = await worker();
    expect({
      superseded: sampleValue(metrics, 'hooklane_events_superseded_total', { type: 'customer.subscription.updated' }),
      outOfOrder: sampleValue(metrics, 'hooklane_events_out_of_order_total', { type: 'customer.subscription.updated' }),
      leaseWaits: sampleValue(metrics, 'hooklane_object_lease_wait_seconds_count'),
      underHalfASecond: sampleValue(metrics, 'hooklane_object_lease_wait_seconds_bucket', { le: '0.5' }),
    }).toEqual({ superseded: 1, outOfOrder: 2, leaseWaits: 1, underHalfASecond: 1 });
  });

  test('a retried attempt is timed but adds no lag; a type without a handler is `other`', async () => {
    const handled = (type: string) => (type === 'customer.created' ? type : type === 'v1.customer.created' ? 'customer.created' : undefined);
    expect([eventTypeLabel('customer.created', handled), eventTypeLabel('v1.customer.created', handled), eventTypeLabel('evt.made.up', handled)]).toEqual([
      'customer.created',
      'customer.created',
      'other',
    ]);
    recordEventJob('other', 'retried', 0.3);
    const metrics = await worker();
    expect(sampleValue(metrics, 'hooklane_event_job_duration_seconds_count', { type: 'other', outcome: 'retried' })).toBe(1);
    expect(sampleValue(metrics, 'hooklane_event_lag_seconds_count', { type: 'other', outcome: 'retried' })).toBeUndefined();
  });

  test('when Redis does not answer within the timeout, the scrape answers without queue depths and says so', async () => {
    collectQueueDepthsFrom(() => new Promise(() => undefined), 50);
    const slow = await worker();
    expect(sampleValue(slow, 'hooklane_queue_depth_collect_success')).toBe(0);
    expect(slow.samples.filter((s) => s.name === 'hooklane_queue_jobs')).toEqual([]);

    collectQueueDepthsFrom(
      async () => ({
        queues: { 'stripe-events': { waiting: 7, active: 1, delayed: 0, failed: 2 } },
        oldestWaitingSeconds: { 'stripe-events': 12.5 },
        intake: { waiting: 3, pending: 1, deadLettered: 0 },
      }),
      1000,
    );
    const fine = await worker();
    expect({
      success: sampleValue(fine, 'hooklane_queue_depth_collect_success'),
      waiting: sampleValue(fine, 'hooklane_queue_jobs', { queue: 'stripe-events', state: 'waiting' }),
      failed: sampleValue(fine, 'hooklane_queue_jobs', { queue: 'stripe-events', state: 'failed' }),
      oldest: sampleValue(fine, 'hooklane_queue_oldest_waiting_age_seconds', { queue: 'stripe-events' }),
      backlog: sampleValue(fine, 'hooklane_intake_backlog_entries', { state: 'waiting' }),
    }).toEqual({ success: 1, waiting: 7, failed: 2, oldest: 12.5, backlog: 3 });
  });
});

describe('the metrics server', () => {
  test('listens on 127.0.0.1 unless METRICS_HOST says otherwise, and not at all without METRICS_PORT', async () => {
    const config = loadConfig({ REDIS_URL: 'redis://127.0.0.1:1', METRICS_PORT: '0' });
    expect(config.METRICS_HOST).toBe('127.0.0.1');
    const server = await startMetricsServerIfConfigured(config, () => metricsRegistryFor('web'), logger);
    try {
      expect(server?.host).toBe('127.0.0.1');
      const res = await fetch(`http://127.0.0.1:${server!.port}/metrics`);
      expect(parsePrometheusText(await res.text()).types.get('hooklane_intake_deliveries_total')).toBe('counter');
    } finally {
      await server?.close();
    }
    const none = await startMetricsServerIfConfigured(loadConfig({ REDIS_URL: 'redis://127.0.0.1:1' }), () => metricsRegistryFor('web'), logger);
    expect(none).toBeUndefined();
  });

  test('a port it cannot bind is logged, not fatal', async () => {
    const first = await startMetricsServerIfConfigured({ METRICS_PORT: 0, METRICS_HOST: '127.0.0.1' }, () => metricsRegistryFor('web'), logger);
    try {
      const second = await startMetricsServerIfConfigured({ METRICS_PORT: first!.port, METRICS_HOST: '127.0.0.1' }, () => metricsRegistryFor('web'), logger);
      expect(second).toBeUndefined();
    } finally {
      await first?.close();
    }
  });
});

describe('the per-delivery and per-job metrics (hot-path-metrics.ts)', () => {
  test('write exactly what prom-client\'s Counter and Histogram write for the same observations', async () => {
    const ours = new Registry();
    const theirs = new Registry();
    const bounds = [0.001, 0.01, 0.1, 1];
    const counter = new HotCounter('c_total', 'help', ['outcome'], ours);
    const histogram = new HotHistogram('h_seconds', 'help', ['type', 'outcome'], bounds, ours);
    const plain = new HotHistogram('p_seconds', 'help', [], bounds, ours);
    const refCounter = new Counter({ name: 'c_total', help: 'help', labelNames: ['outcome'], registers: [theirs] });
    const refHistogram = new Histogram({ name: 'h_seconds', help: 'help', labelNames: ['type', 'outcome'], buckets: bounds, registers: [theirs] });
    const refPlain = new Histogram({ name: 'p_seconds', help: 'help', buckets: bounds, registers: [theirs] });
    for (const outcome of ['a', 'b']) {
      counter.series(outcome);
      refCounter.labels(outcome).inc(0);
    }
    histogram.series('never', 'seen');
    // On a bound, between bounds, past the last one.
    for (const [type, outcome, value] of [['x', 'a', 0.001], ['x', 'a', 0.005], ['y', 'b', 0.5], ['x', 'b', 3], ['x', 'a', 0]] as const) {
      counter.inc(counter.series(outcome));
      histogram.observe(histogram.series(type, outcome), value);
      plain.observe(plain.series(), value);
      refCounter.labels(outcome).inc();
      refHistogram.labels(type, outcome).observe(value);
      refPlain.observe(value);
    }
    expect(await ours.metrics()).toBe(await theirs.metrics());
    expect(parsePrometheusText(await ours.metrics()).samples.length).toBeGreaterThan(20);
  });
});
