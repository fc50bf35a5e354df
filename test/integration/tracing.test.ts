import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { startStripeEmulator, type StripeEmulator } from '../../src/dev/stripe-emulator';
import { buildStripeEvent, signStripePayload } from '../../src/dev/stripe-event-builder';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../support/otlp-receiver';
import { startWeb, startWorker, type RunningProcess } from '../support/processes';
import { startRedis, type TestRedis } from '../support/redis';
import { deliver } from './webhooks-support';

/**
 * One trace per event, across the real processes: the web and the worker (dist/, as the Procfile runs them)
 * export to an OTLP/HTTP receiver in this process; a thin notification's whole way (intake, move, job, the
 * Stripe API read of its snapshot event, the handler) must arrive as one trace, parent by parent, in order.
 */
const SNAPSHOT_SECRET = 'whsec_tracing_snapshot_secret';
const THIN_SECRET = 'whsec_tracing_thin_secret';
const STRIPE_KEY = 'sk_test_tracing00000001';

let redis: TestRedis;
let emulator: StripeEmulator;
let receiver: OtlpReceiver;
const running: RunningProcess[] = [];

beforeAll(async () => {
  redis = await startRedis({ appendOnly: false });
  emulator = await startStripeEmulator({ secretKey: STRIPE_KEY });
  receiver = await startOtlpReceiver();
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.kill('SIGKILL')));
  receiver.spans.length = 0;
});
afterAll(async () => {
  await receiver.close();
  await emulator.stop();
  await redis.destroy();
});

const envFor = (sandbox: string) => ({
  REDIS_URL: redis.url,
  QUEUE_PREFIX: `test-${randomUUID()}`,
  WORKER_SANDBOX: sandbox,
  STRIPE_WEBHOOK_SECRET: `${SNAPSHOT_SECRET},${THIN_SECRET}`,
  STRIPE_SECRET_KEY: STRIPE_KEY,
  STRIPE_API_BASE: emulator.url,
  RECONCILE_INTERVAL_MINUTES: '0',
  OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
  // Each process exports within a fraction of a second, so the test waits on spans, not on a 5 s batch.
  OTEL_BSP_SCHEDULE_DELAY: '100',
});

const byName = (spans: ReceivedSpan[], traceId: string, name: string) => spans.find((s) => s.traceId === traceId && s.name === name);
const EXPECTED = ['POST /webhooks/stripe', 'send stripe-events', 'process stripe-events', 'GET /v1/events/{id}', 'handle customer.created'];

describe.each(['thread', 'process', 'none'])('with WORKER_SANDBOX=%s', (sandbox) => {
  test('a thin notification\'s intake, move, job, Stripe read and handler are one trace, each span the child of the one before', async () => {
    const env = envFor(sandbox);
    const web = await startWeb(env);
    running.push(web);
    running.push(await startWorker(env));
    const snapshot = emulator.events.add(buildStripeEvent('customer.created'));
    const notification = emulator.events.addThinFor(snapshot);

    const answer = await deliver(web.url, JSON.stringify(notification, null, 2), { secret: THIN_SECRET });
    expect(answer.status).toBe(200);

    const intakeOf = (spans: ReceivedSpan[]) => spans.find((s) => s.name === 'POST /webhooks/stripe' && s.attributes['stripe.event.id'] === snapshot.id);
    const spans = await receiver.waitFor((all) => {
      const intake = intakeOf(all);
      return !!intake && EXPECTED.every((name) => byName(all, intake.traceId, name));
      // Three processes export on their own schedules; a loaded machine can hold one back for a while.
    }, 45_000).catch((err: unknown) => {
      throw new Error(`${(err as Error).message}\n${JSON.stringify(receiver.spans.map((s) => [s.name, s.traceId, s.spanId, s.parentSpanId]))}`);
    });
    const intake = intakeOf(spans)!;
    const [, move, job, fetch, handler] = EXPECTED.map((name) => byName(spans, intake.traceId, name)!);

    // One trace, one chain of parents: intake → move → job → (the Stripe read, the handler).
    expect(intake.parentSpanId).toBe('');
    expect(move!.parentSpanId).toBe(intake.spanId);
    expect(job!.parentSpanId).toBe(move!.spanId);
    expect(fetch!.parentSpanId).toBe(job!.spanId);
    expect(handler!.parentSpanId).toBe(job!.spanId);
    // In causal order: each starts after the one it came from (a job can start before its move span ends: the
    // move also writes the index record), the handler after the event was read. The SDK anchors each span to
    // Date.now() (whole milliseconds), so times from different spans compare within a millisecond.
    const ms = 1_000_000n;
    expect(move!.startNs + ms).toBeGreaterThanOrEqual(intake.startNs);
    expect(job!.startNs + ms).toBeGreaterThanOrEqual(move!.startNs);
    expect(fetch!.startNs + ms).toBeGreaterThanOrEqual(job!.startNs);
    expect(handler!.startNs + ms).toBeGreaterThanOrEqual(fetch!.endNs);
    expect(job!.endNs + ms).toBeGreaterThanOrEqual(handler!.endNs);

    // Every span names the event; the queue's spans say what they are in messaging terms.
    for (const span of [intake, move, job, fetch, handler]) expect(span!.attributes['stripe.event.id']).toBe(snapshot.id);
    expect(intake).toMatchObject({ service: 'hooklane-web', kind: 2, attributes: { 'http.request.method': 'POST', 'http.route': '/webhooks/stripe', 'http.response.status_code': 200 } });
    expect(move).toMatchObject({ service: 'hooklane-worker', kind: 4, attributes: { 'messaging.system': 'bullmq', 'messaging.operation.type': 'send', 'messaging.destination.name': 'stripe-events', 'messaging.message.id': snapshot.id } });
    expect(job).toMatchObject({ service: 'hooklane-worker', kind: 5, attributes: { 'messaging.operation.type': 'process', 'messaging.message.id': snapshot.id, 'hooklane.job.attempt': 1 } });
    expect(fetch).toMatchObject({ kind: 3, attributes: { 'http.request.method': 'GET', 'url.template': '/v1/events/{id}' } });
    expect(handler).toMatchObject({ kind: 1, attributes: { 'stripe.event.type': 'customer.created', 'hooklane.delivery': 'thin' } });
    for (const span of [intake, move, job, fetch, handler]) expect(span!.status.code ?? 0).not.toBe(2);

    // The delivery's log line carries the trace, so a log search leads to it.
    await web.waitForOutput(`"trace_id":"${intake.traceId}"`, 20_000);
  });
});

test('with tracing on, a duplicate delivery is its own trace and says so; the event is still moved once', async () => {
  const env = envFor('thread');
  const web = await startWeb(env);
  running.push(web);
  running.push(await startWorker(env));
  const snapshot = emulator.events.add(buildStripeEvent('customer.created'));
  const payload = JSON.stringify(snapshot, null, 2);
  expect((await deliver(web.url, payload, { secret: SNAPSHOT_SECRET })).body).toMatchObject({ duplicate: false });
  expect((await deliver(web.url, payload, { secret: SNAPSHOT_SECRET })).body).toMatchObject({ duplicate: true });

  const spans = await receiver.waitFor((all) =>
    all.filter((s) => s.name === 'POST /webhooks/stripe' && s.attributes['stripe.event.id'] === snapshot.id).length === 2 &&
    all.some((s) => s.name === 'handle customer.created' && s.attributes['stripe.event.id'] === snapshot.id),
  );
  const intakes = spans.filter((s) => s.name === 'POST /webhooks/stripe' && s.attributes['stripe.event.id'] === snapshot.id);
  expect(intakes.map((s) => s.attributes['hooklane.intake.duplicate']).sort()).toEqual([false, true]);
  const first = intakes.find((s) => s.attributes['hooklane.intake.duplicate'] === false)!;
  const moves = spans.filter((s) => s.name === 'send stripe-events' && s.attributes['stripe.event.id'] === snapshot.id);
  expect(moves).toHaveLength(1);
  expect(moves[0]!.traceId).toBe(first.traceId);
});

test('a delivery refused before it is verified leaves no span: nobody anonymous makes traces', async () => {
  const env = envFor('none');
  const web = await startWeb(env);
  running.push(web);
  const forged = emulator.events.add(buildStripeEvent('customer.created'));
  expect((await deliver(web.url, JSON.stringify(forged), { secret: 'whsec_not_ours' })).status).toBe(400);
  const genuine = emulator.events.add(buildStripeEvent('customer.created'));
  expect((await deliver(web.url, JSON.stringify(genuine), { secret: SNAPSHOT_SECRET })).status).toBe(200);

  // The web exports in order: once the genuine delivery's span is in, the refused one's would be too.
  const spans = await receiver.waitFor((all) => all.some((s) => s.attributes['stripe.event.id'] === genuine.id));
  expect(spans.filter((s) => s.service === 'hooklane-web').map((s) => [s.name, s.attributes['http.response.status_code']])).toEqual([['POST /webhooks/stripe', 200]]);
});

test('on SIGTERM the web and the worker export the spans they still hold before they exit', async () => {
  // A batch delay far beyond the test's patience: only the shutdown's flush can deliver these spans.
  const env = { ...envFor('none'), OTEL_BSP_SCHEDULE_DELAY: '600000' };
  const web = await startWeb(env);
  const worker = await startWorker(env);
  running.push(web, worker);
  const event = emulator.events.add(buildStripeEvent('customer.created'));
  expect((await deliver(web.url, JSON.stringify(event), { secret: SNAPSHOT_SECRET })).status).toBe(200);
  await jobFinished(env.QUEUE_PREFIX, event.id);
  expect(receiver.spans).toEqual([]);

  expect(await web.kill('SIGTERM')).toEqual({ code: 0, signal: null });
  await receiver.waitFor((all) => all.some((s) => s.service === 'hooklane-web' && s.attributes['stripe.event.id'] === event.id), 20_000);
  expect(await worker.kill('SIGTERM')).toEqual({ code: 0, signal: null });
  const spans = await receiver.waitFor((all) => all.some((s) => s.name === 'handle customer.created' && s.attributes['stripe.event.id'] === event.id), 20_000);
  expect(spans.filter((s) => s.attributes['stripe.event.id'] === event.id).map((s) => s.name).sort()).toEqual(
    ['POST /webhooks/stripe', 'handle customer.created', 'process stripe-events', 'send stripe-events'],
  );
});

/** Polls the job's hash until BullMQ has marked it finished (bounded). */
async function jobFinished(prefix: string, jobId: string): Promise<void> {
  const client = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await client.connect();
  try {
    const deadline = Date.now() + 20_000;
    while (!(await client.hget(`${prefix}:stripe-events:${jobId}`, 'finishedOn'))) {
      if (Date.now() > deadline) throw new Error(`job ${jobId} did not finish within 20 s`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } finally {
    client.disconnect();
  }
}

test('a delivery through the Express route is traced the same way, and its request line carries the trace', async () => {
  const env = envFor('none');
  const web = await startWeb(env);
  running.push(web);
  const event = emulator.events.add(buildStripeEvent('customer.created'));
  const payload = JSON.stringify(event);
  // A query string takes the delivery off the fast path, to the Express route.
  const res = await fetch(`${web.url}/webhooks/stripe?via=express`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'stripe-signature': signStripePayload(payload, SNAPSHOT_SECRET) },
    body: payload,
  });
  expect(res.status).toBe(200);
  const spans = await receiver.waitFor((all) => all.some((s) => s.name === 'POST /webhooks/stripe' && s.attributes['stripe.event.id'] === event.id));
  const intake = spans.find((s) => s.attributes['stripe.event.id'] === event.id)!;
  expect(intake.attributes['http.response.status_code']).toBe(200);
  await web.waitForOutput(`"trace_id":"${intake.traceId}"`, 20_000);
});

test('a collector that refuses the spans is reported in the log, with why', async () => {
  const refusing = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(400, { 'content-type': 'application/json' }).end('{"message":"no"}'));
  });
  await new Promise<void>((resolve) => refusing.listen(0, '127.0.0.1', resolve));
  try {
    const env = { ...envFor('none'), OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(refusing.address() as AddressInfo).port}` };
    const web = await startWeb(env);
    running.push(web);
    for (let i = 0; i < 3; i += 1) {
      const event = emulator.events.add(buildStripeEvent('customer.created'));
      expect((await deliver(web.url, JSON.stringify(event), { secret: SNAPSHOT_SECRET })).status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
    await web.waitForOutput('traces could not be exported', 20_000);
    const line = web.output().split('\n').find((l) => l.includes('traces could not be exported'))!;
    expect(JSON.parse(line)).toMatchObject({ level: 'warn', err: expect.stringMatching(/400|Bad Request/) });
  } finally {
    await new Promise((resolve) => refusing.close(resolve));
  }
});
