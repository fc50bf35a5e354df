import { randomUUID } from 'node:crypto';
import { eventIndexFor } from '../../src/events/event-index';
import { QUEUE_NAMES } from '../../src/queues';
import { startTestApp } from '../support/app';
import { signStripePayload } from '../../src/dev/stripe-event-builder';
import { openapiViolations, operationsServedElsewhere } from '../support/openapi';
import { startWeb, startWorker, type RunningProcess, type WebProcess } from '../support/processes';
import { parsePrometheusText, sampleValue, type Exposition } from '../support/prometheus-text';
import { startRedis, type TestRedis } from '../support/redis';
import { deliver, fixtureEvent, WEBHOOK_SECRET } from './webhooks-support';

const scrape = async (port: number): Promise<Exposition> => {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePrometheusText(await res.text());
};

/** Scrapes until `ready` holds (the worker observes a job once BullMQ reports it done), within a bound. */
async function scrapeUntil(port: number, ready: (e: Exposition) => boolean, timeoutMs = 30_000): Promise<Exposition> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const exposition = await scrape(port);
    if (ready(exposition)) return exposition;
    if (Date.now() > deadline) return exposition;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The one `metrics listening` line's address: where the process bound its metrics port. */
function metricsAddress(output: string): { host: string; port: number } {
  const line = output.split('\n').find((l) => l.includes('"metrics listening"'));
  if (!line) throw new Error(`no metrics line in:\n${output.slice(-2000)}`);
  const { host, port } = JSON.parse(line) as { host: string; port: number };
  return { host, port };
}

describe('Prometheus GET /metrics of real web and worker processes', () => {
  let redis: TestRedis;
  let web: WebProcess;
  let worker: RunningProcess;
  let webMetricsPort: number;
  let workerMetricsPort: number;

  beforeAll(async () => {
    redis = await startRedis({ appendOnly: false });
    // METRICS_HOST is left unset: the default must be loopback. Port 0: each process binds a free port and logs it
    // (a port picked here could be taken by another test's process before the child binds it).
    const env = { REDIS_URL: redis.url, QUEUE_PREFIX: `test-${randomUUID()}`, STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET, RECONCILE_INTERVAL_MINUTES: '0' };
    web = await startWeb({ ...env, METRICS_PORT: '0' });
    worker = await startWorker({ ...env, METRICS_PORT: '0', METRICS_COLLECT_TIMEOUT_MS: '1000', JOB_ATTEMPTS: '1' });
    await web.waitForOutput('metrics listening');
    await worker.waitForOutput('metrics listening');
    webMetricsPort = metricsAddress(web.output()).port;
    workerMetricsPort = metricsAddress(worker.output()).port;
  });
  afterAll(async () => {
    await worker?.kill();
    await web?.kill();
    await redis?.destroy();
  });

  test('both processes bind their metrics port to loopback by default, and the web\'s public port does not serve /metrics', async () => {
    expect(metricsAddress(web.output()).host).toBe('127.0.0.1');
    expect(metricsAddress(worker.output()).host).toBe('127.0.0.1');
    expect([webMetricsPort, workerMetricsPort].every((port) => port > 0 && port !== Number(new URL(web.url).port))).toBe(true);
    // The public port answers /metrics as any unknown page (the console's HTML, or 404), never with the metrics.
    const onPublicPort = await fetch(`${web.url}/metrics`);
    expect(onPublicPort.headers.get('content-type')).not.toMatch(/^text\/plain/);
    expect(await onPublicPort.text()).not.toMatch(/# (HELP|TYPE) |hooklane_intake/);
  });

  test('after signed webhooks, the web counts each outcome and reason and times each delivery', async () => {
    const before = await scrape(webMetricsPort);
    const count = (e: Exposition, outcome: string) => sampleValue(e, 'hooklane_intake_deliveries_total', { outcome }) ?? 0;
    const { payload } = fixtureEvent('customer.created');
    expect((await deliver(web.url, payload)).body).toEqual({ received: true, duplicate: false });
    expect((await deliver(web.url, payload)).body).toEqual({ received: true, duplicate: true });
    expect((await deliver(web.url, fixtureEvent('customer.created').payload, { secret: 'whsec_not_ours' })).status).toBe(400);
    // The Express route (a query string leaves the fast path) counts the same way.
    const viaExpress = fixtureEvent('product.created').payload;
    const res = await fetch(`${web.url}/webhooks/stripe?via=express`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'stripe-signature': signStripePayload(viaExpress, WEBHOOK_SECRET) },
      body: viaExpress,
    });
    expect(res.status).toBe(200);
    const refusedByExpress = await fetch(`${web.url}/webhooks/stripe?via=express`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'stripe-signature': signStripePayload(viaExpress, 'whsec_not_ours') },
      body: viaExpress,
    });
    expect(refusedByExpress.status).toBe(400);

    const after = await scrape(webMetricsPort);
    expect({
      accepted: count(after, 'accepted') - count(before, 'accepted'),
      duplicate: count(after, 'duplicate') - count(before, 'duplicate'),
      rejected: count(after, 'rejected') - count(before, 'rejected'),
      invalidSignature: sampleValue(after, 'hooklane_intake_rejections_total', { reason: 'SIGNATURE_INVALID' }),
      timedAccepted:
        (sampleValue(after, 'hooklane_intake_duration_seconds_count', { outcome: 'accepted' }) ?? 0) -
        (sampleValue(before, 'hooklane_intake_duration_seconds_count', { outcome: 'accepted' }) ?? 0),
    }).toEqual({ accepted: 2, duplicate: 1, rejected: 2, invalidSignature: 2, timedAccepted: 2 });
    expect(after.types.get('hooklane_intake_duration_seconds')).toBe('histogram');
    // prom-client's default process metrics come along; the worker's own do not.
    expect(sampleValue(after, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(after.types.get('nodejs_eventloop_lag_seconds')).toBe('gauge');
    expect(after.types.has('hooklane_event_job_duration_seconds')).toBe(false);
  });

  test('the worker times each job and its lag from receipt by handled type (others as `other`) and outcome, and reads the queue depths', async () => {
    const handled = fixtureEvent('customer.created');
    const unhandled = fixtureEvent('product.created');
    for (const { payload } of [handled, unhandled]) expect((await deliver(web.url, payload)).status).toBe(200);
    const done = (e: Exposition, type: string) => sampleValue(e, 'hooklane_event_lag_seconds_count', { type, outcome: 'completed' }) ?? 0;
    // Every handled or unhandled event this file sent completes: 3 customer.created (one a duplicate, one refused: 2), 2 product.created.
    // A scrape whose queue-depth read ran past its timeout (a loaded machine) says so; the next one is tried.
    const collected = (e: Exposition) => sampleValue(e, 'hooklane_queue_depth_collect_success') === 1;
    const metrics = await scrapeUntil(workerMetricsPort, (e) => done(e, 'customer.created') >= 2 && done(e, 'other') >= 2 && collected(e));
    expect({ handled: done(metrics, 'customer.created'), other: done(metrics, 'other') }).toEqual({ handled: 2, other: 2 });
    expect(sampleValue(metrics, 'hooklane_event_job_duration_seconds_count', { type: 'customer.created', outcome: 'completed' })).toBe(2);
    // No raw type leaks into a label: product.created has no handler.
    expect(metrics.samples.some((s) => s.labels.type === 'product.created')).toBe(false);
    expect(sampleValue(metrics, 'hooklane_event_lag_seconds_sum', { type: 'customer.created', outcome: 'completed' })).toBeGreaterThan(0);

    expect(sampleValue(metrics, 'hooklane_queue_depth_collect_success')).toBe(1);
    for (const state of ['waiting', 'active', 'delayed', 'failed']) {
      expect(sampleValue(metrics, 'hooklane_queue_jobs', { queue: 'stripe-events', state })).toBeGreaterThanOrEqual(0);
    }
    expect(sampleValue(metrics, 'hooklane_intake_backlog_entries', { state: 'waiting' })).toBe(0);
    // Declared for per-object ordering, present before anything records them.
    expect(metrics.types.get('hooklane_events_superseded_total')).toBe('counter');
    expect(metrics.types.get('hooklane_object_lease_wait_seconds')).toBe('histogram');
    expect(metrics.types.has('hooklane_intake_deliveries_total')).toBe(false);
  });

  test('while Redis is away a worker scrape still answers, without queue depths and saying so; they return with Redis', async () => {
    await redis.stop();
    try {
      const away = await scrape(workerMetricsPort);
      expect(sampleValue(away, 'hooklane_queue_depth_collect_success')).toBe(0);
      expect(away.samples.filter((s) => s.name === 'hooklane_queue_jobs')).toEqual([]);
      // The counters kept in the process are still there.
      expect(sampleValue(away, 'hooklane_event_lag_seconds_count', { type: 'customer.created', outcome: 'completed' })).toBe(2);
    } finally {
      await redis.start();
    }
    const back = await scrapeUntil(workerMetricsPort, (e) => sampleValue(e, 'hooklane_queue_depth_collect_success') === 1);
    expect(sampleValue(back, 'hooklane_queue_depth_collect_success')).toBe(1);
    expect(sampleValue(back, 'hooklane_queue_oldest_waiting_age_seconds', { queue: 'stripe-events' })).toBe(0);
  });

  test('the metrics port answers only GET /metrics, as the OpenAPI document describes it', async () => {
    expect(operationsServedElsewhere()).toEqual(['GET /metrics']);
    const base = `http://127.0.0.1:${workerMetricsPort}`;
    const ok = await fetch(`${base}/metrics`);
    const other = await fetch(`${base}/api/jobs`);
    const post = await fetch(`${base}/metrics`, { method: 'POST' });
    expect([ok.status, other.status, post.status, post.headers.get('allow')]).toEqual([200, 404, 405, 'GET, HEAD']);
    expect([...(await openapiViolations('GET', '/metrics', ok)), ...(await openapiViolations('POST', '/metrics', post))]).toEqual([]);
  });
});

describe('the end-to-end lag\'s starting point', () => {
  test('the intake mover gives each job the moment the web accepted its webhook (the index\'s receivedAt) as its timestamp', async () => {
    const redis = await startRedis({ appendOnly: false });
    const app = await startTestApp(redis.url, { STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET });
    try {
      const { event, payload } = fixtureEvent('customer.created');
      expect((await deliver(app.url, payload)).status).toBe(200);
      expect(await app.moveIntake()).toBe(1);
      const job = await app.deps.queues[QUEUE_NAMES.stripeEvents].getJob(event.id);
      const record = await eventIndexFor(app.deps.redis, app.deps.config).get(event.id);
      expect(job?.timestamp).toBe(Date.parse(record!.receivedAt));
    } finally {
      await app.deps.queues[QUEUE_NAMES.stripeEvents].obliterate({ force: true }).catch(() => undefined);
      await app.close();
      await redis.destroy();
    }
  });
});
