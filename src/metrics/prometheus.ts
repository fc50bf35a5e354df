import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import { HotCounter, HotHistogram } from './hot-path-metrics';

/**
 * Every Prometheus metric hooklane exposes, in one module (docs/operations.md "Prometheus metrics" lists them).
 * The metrics are process-wide singletons, recorded through the functions below whether or not anything
 * scrapes them (a webhook delivery costs tens of nanoseconds to record); `GET /metrics` is served on METRICS_PORT
 * by src/metrics/metrics-server.ts.
 *
 * Cardinality is bounded by construction: no label ever carries an id, an account or a raw event type.
 * Event types are those with a registered handler, else `other`; intake reasons are the problem codes of
 * the error catalogue; queues are the fixed QUEUE_NAMES.
 *
 * Sandboxed processors run in worker threads or child processes, whose metrics no scrape would see: every
 * worker metric here is recorded in the worker's main process (from BullMQ's `completed`/`failed` events).
 */

const webRegistry = new Registry();
const workerRegistry = new Registry();
const processRegistry = new Registry();

// Webhook intake latency is milliseconds when Redis is healthy; the upper buckets catch ENQUEUE_TIMEOUT_MS (1 s).
const INTAKE_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
// Handlers call Stripe's API (~200 ms) and share its budget; retries back off for seconds to minutes.
const JOB_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const LAG_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];
const LEASE_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60];

// ---- web: the webhook intake ----

/** What the intake answered a delivery: stored (200, duplicate false), already known (200, duplicate true), or refused. */
export type IntakeOutcome = 'accepted' | 'duplicate' | 'rejected';

const INTAKE_OUTCOMES: readonly IntakeOutcome[] = ['accepted', 'duplicate', 'rejected'];

// The fast path's two metrics are array writes (hot-path-metrics.ts), not prom-client's per-call label checks.
const intakeDeliveries = new HotCounter(
  'hooklane_intake_deliveries_total',
  'Webhook deliveries answered by the intake, by outcome (accepted, duplicate, rejected).',
  ['outcome'],
  webRegistry,
);
const intakeDuration = new HotHistogram(
  'hooklane_intake_duration_seconds',
  'Time from a delivery reaching the web process to its answer being written, by outcome.',
  ['outcome'],
  INTAKE_BUCKETS,
  webRegistry,
);
const intakeRejections = new Counter({
  name: 'hooklane_intake_rejections_total',
  help: 'Webhook deliveries refused, by reason (the problem code answered, e.g. SIGNATURE_INVALID, REDIS_UNAVAILABLE).',
  labelNames: ['reason'] as const,
  registers: [webRegistry],
});

// Every outcome's counter exists from the start (at 0), so a rate over it never starts from nothing.
const deliveriesSlot = Object.fromEntries(INTAKE_OUTCOMES.map((o) => [o, intakeDeliveries.series(o)])) as Record<IntakeOutcome, number>;
const durationSlot = Object.fromEntries(INTAKE_OUTCOMES.map((o) => [o, intakeDuration.series(o)])) as Record<IntakeOutcome, number>;

/**
 * Records one answered delivery: its outcome, how long it took and, for a refusal, its problem code (a
 * small catalogue, src/errors.ts, so the reason label stays bounded). Called by the fast path
 * (src/web/fast-path.ts) and the Express route alike.
 */
export function recordIntake(outcome: IntakeOutcome, seconds: number, reason?: string): void {
  intakeDeliveries.inc(deliveriesSlot[outcome]);
  intakeDuration.observe(durationSlot[outcome], seconds);
  if (outcome === 'rejected') intakeRejections.labels(reason ?? 'INTERNAL').inc();
}

// ---- worker: jobs of Stripe events ----

/**
 * How a Stripe event's job attempt ended: `completed`, `failed` (for good: out of attempts or unrecoverable),
 * `retried` (failed, another attempt is scheduled). Per-object ordering adds `superseded`.
 */
export type EventJobOutcome = 'completed' | 'failed' | 'retried' | 'superseded';

/** The label for an event type with no registered handler (keeps the type label's values bounded). */
export const OTHER_EVENT_TYPE = 'other';

// Per job, in the worker's main process: array writes too, so observing costs the drain nothing measurable.
const eventJobDuration = new HotHistogram(
  'hooklane_event_job_duration_seconds',
  'Time one attempt of a Stripe event job ran (processedOn to finishedOn), by event type (handled types, else other) and outcome.',
  ['type', 'outcome'],
  JOB_BUCKETS,
  workerRegistry,
);
const eventLag = new HotHistogram(
  'hooklane_event_lag_seconds',
  'Time from the webhook being received (the intake\'s 200) to its handler finishing for good, by event type and final outcome.',
  ['type', 'outcome'],
  LAG_BUCKETS,
  workerRegistry,
);
const EVENT_JOB_OUTCOMES: readonly EventJobOutcome[] = ['completed', 'failed', 'retried', 'superseded'];
/** Per type label: the duration and lag slots of each outcome, made on the type's first job. */
const eventJobSlots = new Map<string, { duration: Record<EventJobOutcome, number>; lag: Record<EventJobOutcome, number> }>();

function eventJobSlotsOf(type: string) {
  let slots = eventJobSlots.get(type);
  if (!slots) {
    const each = (metric: HotHistogram) => Object.fromEntries(EVENT_JOB_OUTCOMES.map((o) => [o, metric.series(type, o)])) as Record<EventJobOutcome, number>;
    slots = { duration: each(eventJobDuration), lag: each(eventLag) };
    eventJobSlots.set(type, slots);
  }
  return slots;
}

/**
 * One job attempt that ended; `lagSeconds` only when the outcome is final (not `retried`). `type` must
 * already be bounded: {@link eventTypeLabel}.
 */
export function recordEventJob(type: string, outcome: EventJobOutcome, durationSeconds: number, lagSeconds?: number): void {
  const slots = eventJobSlotsOf(type);
  eventJobDuration.observe(slots.duration[outcome], durationSeconds);
  if (lagSeconds !== undefined) eventLag.observe(slots.lag[outcome], lagSeconds);
}

// ---- worker: per-object ordering (issue 19 items 1-2; wired by the ordering work) ----

const eventsSuperseded = new Counter({
  name: 'hooklane_events_superseded_total',
  help: 'Events not handled because a newer event for the same object had already been processed (handlers with skipIfSuperseded), by event type.',
  labelNames: ['type'] as const,
  registers: [workerRegistry],
});
const eventsOutOfOrder = new Counter({
  name: 'hooklane_events_out_of_order_total',
  help: 'Events handled although a newer event for the same object had already been processed (the handler is told), by event type.',
  labelNames: ['type'] as const,
  registers: [workerRegistry],
});
// Observed for every event that waited, on the drain's path: an array write.
const leaseWait = new HotHistogram(
  'hooklane_object_lease_wait_seconds',
  'Time an event waited for its object\'s lease (another event for the same object was being processed) before it ran.',
  [],
  LEASE_BUCKETS,
  workerRegistry,
);
const leaseWaitSlot = leaseWait.series();

/** An event recorded as `superseded`. `type` must already be bounded: {@link eventTypeLabel}. Main worker process only. */
export function recordSuperseded(type: string): void {
  eventsSuperseded.labels(type).inc();
}

/** An event handled out of order (older than one already processed for its object). Main worker process only. */
export function recordOutOfOrder(type: string): void {
  eventsOutOfOrder.labels(type).inc();
}

/** How long an event waited for its object's lease, once it got it. Main worker process only. */
export function observeLeaseWait(seconds: number): void {
  leaseWait.observe(leaseWaitSlot, seconds);
}

/**
 * The type label of an event: the type of the handler that runs it (a thin `v1.x` notification runs `x`'s
 * handler and is labelled `x`), else `other`. `handledType` is HandlerRegistry's lookup.
 */
export function eventTypeLabel(type: string, handledType: (type: string) => string | undefined): string {
  return handledType(type) ?? OTHER_EVENT_TYPE;
}

// ---- worker: queue depths, read from Redis when scraped ----

/** What one scrape reads from Redis. Queue depths are the same on every instance: aggregate with max, not sum. */
export interface QueueDepths {
  /** Per queue name: jobs waiting, active, delayed and failed (kept). */
  queues: Record<string, { waiting: number; active: number; delayed: number; failed: number }>;
  /** Per queue name: age of the oldest waiting job in seconds (0 when none waits). */
  oldestWaitingSeconds: Record<string, number>;
  /** The intake log (src/events/intake-log.ts): accepted webhooks not yet jobs, those read by a mover, dead letters. */
  intake: { waiting: number; pending: number; deadLettered: number };
}

const queueJobs = new Gauge({
  name: 'hooklane_queue_jobs',
  help: 'Jobs in each queue by state (waiting, active, delayed, failed), read from Redis when scraped; the same on every worker.',
  labelNames: ['queue', 'state'] as const,
  registers: [workerRegistry],
  collect: () => depthsCollected(),
});
const oldestWaiting = new Gauge({
  name: 'hooklane_queue_oldest_waiting_age_seconds',
  help: 'Age of the oldest waiting job in each queue (for Stripe events: since the webhook was accepted), 0 when none waits; read when scraped.',
  labelNames: ['queue'] as const,
  registers: [workerRegistry],
  collect: () => depthsCollected(),
});
const intakeBacklog = new Gauge({
  name: 'hooklane_intake_backlog_entries',
  help: 'Intake log entries by state: waiting (accepted webhooks not yet turned into jobs, including those pending), pending (read by a mover, not yet done), dead_lettered.',
  labelNames: ['state'] as const,
  registers: [workerRegistry],
  collect: () => depthsCollected(),
});
const depthCollectSuccess = new Gauge({
  name: 'hooklane_queue_depth_collect_success',
  help: '1 when this scrape read the queue depths from Redis within METRICS_COLLECT_TIMEOUT_MS, else 0 (and the depth gauges have no samples).',
  registers: [workerRegistry],
  collect: () => depthsCollected(),
});

let depthSource: { read: () => Promise<QueueDepths>; timeoutMs: number } | undefined;
let inFlight: Promise<void> | undefined;

/**
 * Makes the depth gauges read `read()` on each scrape, giving up after `timeoutMs` (a slow or absent Redis
 * must not hang the scrape: the gauges then have no samples and the success gauge says 0).
 */
export function collectQueueDepthsFrom(read: () => Promise<QueueDepths>, timeoutMs: number): void {
  depthSource = { read, timeoutMs };
}

/** The gauges' collect callbacks all start in the same scrape: they share one read of Redis. */
function depthsCollected(): Promise<void> | void {
  if (!depthSource) return;
  inFlight ??= refreshDepths(depthSource).finally(() => {
    inFlight = undefined;
  });
  return inFlight;
}

async function refreshDepths(source: { read: () => Promise<QueueDepths>; timeoutMs: number }): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), source.timeoutMs);
  });
  const depths = await Promise.race([source.read().catch(() => undefined), timeout]);
  clearTimeout(timer);
  queueJobs.reset();
  oldestWaiting.reset();
  intakeBacklog.reset();
  if (!depths) {
    depthCollectSuccess.set(0);
    return;
  }
  for (const [queue, counts] of Object.entries(depths.queues)) {
    for (const [state, value] of Object.entries(counts)) queueJobs.labels(queue, state).set(value);
  }
  for (const [queue, seconds] of Object.entries(depths.oldestWaitingSeconds)) oldestWaiting.labels(queue).set(seconds);
  intakeBacklog.labels('waiting').set(depths.intake.waiting);
  intakeBacklog.labels('pending').set(depths.intake.pending);
  intakeBacklog.labels('dead_lettered').set(depths.intake.deadLettered);
  depthCollectSuccess.set(1);
}

// ---- registries ----

export type MetricsRole = 'web' | 'worker';

let processMetricsOn = false;

/**
 * What `GET /metrics` serves for a process type: its own metrics plus prom-client's default process
 * metrics (CPU, memory, event loop lag, GC), which start being collected on the first call.
 */
export function metricsRegistryFor(role: MetricsRole): Registry {
  if (!processMetricsOn) {
    collectDefaultMetrics({ register: processRegistry });
    processMetricsOn = true;
  }
  return Registry.merge([processRegistry, role === 'web' ? webRegistry : workerRegistry]);
}
