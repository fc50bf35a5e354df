import type { Context } from '@opentelemetry/api';
import { UnrecoverableError } from 'bullmq';
import type { Redis } from 'ioredis';
import type Stripe from 'stripe';
import { loadConfig, stripeRequestsPerSecond } from '../../config';
import { createLogger, type Logger } from '../../logger';
import { createRedis, waitForRedis } from '../../redis';
import type { SecretStore } from '../../stripe/secret-store';
import type { EventHandler, HandlerRegistry, HandlerServices } from '../handlers/handler-registry';
import type { FetchedThinEvent, StripeFetcher, ThinNotification } from '../../stripe/stripe-fetcher';
import { objectUrl } from '../../stripe/stripe-object-url';
import { STRIPE_EVENT_HANDLERS } from '../handlers';
import { takePlace, type OrderPlace } from '../ordering/order-place';
import type { ProcessableJob } from './generic-job';
import { QUEUE_NAMES } from '../../queues';
import { logFields, startTracing, traceClientCall, traceJob, tracingOn, type JobTrace } from '../../telemetry/tracing';
import { exitWithParent } from './exit-with-parent';
import { readStoredPayload } from '../../events/event-index';
import { isPayloadRef } from '../../events/event-record';
import { eventIndexBase } from '../../events/intake-log';

exitWithParent();

export type StripeEventJob = ProcessableJob;

/** What one processor needs beyond the job; built once per sandbox (a thread or child process). */
export interface StripeEventRuntime {
  handlers: Pick<HandlerRegistry, 'get'>;
  services: HandlerServices;
  logger: Logger;
  /** The stored payload of an event (raw, as signed); undefined once it expired. Jobs carry a PayloadRef. */
  loadPayload?: (eventId: string) => Promise<string | undefined>;
  /** STRIPE_EVENT_JOB_LOGS: ctx.log lines go to the job's log (a Redis list per job) rather than to `logger`. */
  jobLogs?: boolean;
}

/**
 * The services a handler may call, each built on first use: most events never need the Secret Store, and
 * a sandbox that does not load stripe-node or open a Redis connection starts faster and holds less.
 */
export function servicesFromConfig(
  config: ReturnType<typeof loadConfig>,
  logger: Logger,
): HandlerServices & { close(): Promise<void>; connection(): Redis; loadPayload(eventId: string): Promise<string | undefined> } {
  let store: SecretStore | undefined;
  let redis: Redis | undefined;
  let connected: Promise<void> | undefined;
  let fetcher: StripeFetcher | undefined;
  const processorRedis = (): Redis => {
    if (!redis) {
      // The processor role waits for Redis to come back rather than failing the job over a blip.
      redis = createRedis(config, 'processor');
      redis.on('error', (err) => logger.warn({ err: err.message }, 'processor redis error'));
    }
    return redis;
  };
  const stripeFetcher = (): StripeFetcher => {
    if (!fetcher) {
      if (!config.STRIPE_SECRET_KEY) throw new UnrecoverableError('STRIPE_SECRET_KEY is not set: a thin event cannot be fetched');
      const { StripeFetcher: Fetcher } = require('../../stripe/stripe-fetcher') as typeof import('../../stripe/stripe-fetcher');
      const { StripeApiBudget } = require('../../stripe/stripe-api-budget') as typeof import('../../stripe/stripe-api-budget');
      const { createStripeClient } = require('../../stripe/stripe-client') as typeof import('../../stripe/stripe-client');
      const connection = processorRedis();
      const budget = new StripeApiBudget(connection, {
        perSecond: stripeRequestsPerSecond(config),
        keyPrefix: config.QUEUE_PREFIX,
        sendDelayBoundMs: config.STRIPE_API_SEND_DELAY_BOUND_MS,
      });
      // No retries inside stripe-node: each attempt must take its own slot of the budget.
      fetcher = new Fetcher(createStripeClient(config, { maxNetworkRetries: 0 }), budget, connection, config.QUEUE_PREFIX);
    }
    return fetcher;
  };
  return {
    recordHealthAlert: async (alert) => {
      const { recordHealthAlert } = require('../../events/health-alerts') as typeof import('../../events/health-alerts');
      await recordHealthAlert(processorRedis(), config.QUEUE_PREFIX, alert);
    },
    stripe: {
      snapshotEvent: (id, account) => stripeFetcher().snapshotEvent(id, account),
      thinEvent: (notification) => stripeFetcher().thinEvent(notification),
      relatedObject: (notification) => stripeFetcher().relatedObject(notification),
    },
    deleteAccountSecrets: async (accountId) => {
      if (!config.STRIPE_SECRET_KEY) {
        // Without STRIPE_SECRET_KEY (never in production) the Stripe App cannot have stored any token.
        logger.warn({ accountId }, 'STRIPE_SECRET_KEY is not set; no stored tokens to delete');
        return { users: 0, accountGone: false };
      }
      if (!store) {
        // Built here rather than through the Stripe App services, which would load the OAuth client too.
        const { SecretStore } = require('../../stripe/secret-store') as typeof import('../../stripe/secret-store');
        const { createStripeClient } = require('../../stripe/stripe-client') as typeof import('../../stripe/stripe-client');
        store = new SecretStore({
          stripe: createStripeClient(config),
          redis: processorRedis(),
          keyPrefix: config.QUEUE_PREFIX,
          redisDeadlineMs: config.ENQUEUE_TIMEOUT_MS,
        });
      }
      // The store refuses to write on a connection that is not ready (fail fast), and this one may have been
      // made just now: a job waits for it to connect. Not connecting in time fails this attempt (a retry),
      // and the next one waits again.
      connected ??= waitForRedis(redis!, config.REDIS_BOOT_TIMEOUT_MS).catch((err: unknown) => {
        connected = undefined;
        throw err;
      });
      await connected;
      return store.deleteAccountSecrets(accountId);
    },
    loadPayload: async (eventId) => {
      return readStoredPayload(processorRedis(), eventIndexBase(config.QUEUE_PREFIX), eventId);
    },
    /** The processor's Redis connection (made on first use), for what the processor itself keeps there. */
    connection: processorRedis,
    /** Closes what was opened on first use (a sandbox thread ends with its process and does not need to). */
    close: async () => {
      redis?.disconnect();
    },
  };
}

let runtime: StripeEventRuntime | undefined;

/** Sandboxed processors run in another thread or process, so the runtime is built there, on the first job. */
function defaultRuntime(): StripeEventRuntime {
  if (!runtime) {
    const config = loadConfig();
    const logger = createLogger({ level: config.LOG_LEVEL, name: 'worker' });
    // A sandbox is its own realm: it starts its own exporter (in-process, the worker's is already running).
    startTracing(config, 'worker', { sandbox: true, logger });
    const services = servicesFromConfig(config, logger);
    runtime = { handlers: STRIPE_EVENT_HANDLERS, services, logger, loadPayload: services.loadPayload, jobLogs: config.STRIPE_EVENT_JOB_LOGS };
  }
  return runtime;
}

/** A thin notification the intake stored (the processor fetches the full event for it). */
function isThin(data: unknown): data is ThinNotification {
  return (data as { object?: unknown } | null)?.object === 'v2.core.event';
}

/**
 * What a job runs: the handler and the full event it gets. A thin `v1.x` notification with a snapshot
 * event is the snapshot event `x` (fetched, `GET /v1/events/:id`), so `x`'s handler runs once for either
 * shape; a v2 notification is its v2 event (`fetchEvent()`). Nothing is fetched for a type nobody handles.
 */
async function resolve(data: unknown, rt: StripeEventRuntime, services: HandlerServices): Promise<Resolved | undefined> {
  if (!isThin(data)) {
    const event = readEvent(data);
    const handler = rt.handlers.get(event.type);
    if (!handler) return undefined;
    const object = event.data.object as { id?: unknown; object?: unknown };
    const related = typeof object.id === 'string' && typeof object.object === 'string'
      ? { id: object.id, type: object.object, url: objectUrl({ id: object.id, object: object.object }) }
      : null;
    const asNotification = { id: event.id, object: 'v2.core.event', type: event.type, created: '', related_object: related, ...(event.account ? { context: event.account } : {}) } as ThinNotification;
    return { handler, event, account: event.account ?? null, delivery: 'snapshot', notification: asNotification };
  }
  const notification = readNotification(data);
  const handler = rt.handlers.get(notification.type);
  if (!handler) return undefined;
  const account = notification.context?.startsWith('acct_') ? notification.context : null;
  const event = await fetching<Stripe.Event | FetchedThinEvent>(() =>
    notification.snapshot_event && notification.type.startsWith('v1.')
      ? services.stripe.snapshotEvent(notification.snapshot_event, account)
      : services.stripe.thinEvent(notification),
  );
  return { handler, event, account, delivery: 'thin', notification };
}

interface Resolved {
  handler: EventHandler;
  event: Stripe.Event | FetchedThinEvent;
  account: string | null;
  delivery: 'snapshot' | 'thin';
  /** Where the related object is (a snapshot event's `data.object` in the same shape). */
  notification: ThinNotification;
}

function readNotification(data: ThinNotification): ThinNotification {
  if (typeof data.id !== 'string' || typeof data.type !== 'string') {
    throw new UnrecoverableError('malformed event: the job data is a thin notification without id or type');
  }
  return data;
}

/**
 * Stripe keeps events 30 days: an event it no longer has (404) will never come back, so the job fails at
 * once; anything else (a 429 after the budget's retries, a timeout, a 5xx) retries with backoff.
 */
async function fetching<T>(fetch: () => Promise<T>): Promise<T> {
  try {
    return await fetch();
  } catch (err) {
    if ((err as { statusCode?: unknown }).statusCode === 404) {
      throw new UnrecoverableError(`Stripe no longer has the event: ${(err as Error).message}`);
    }
    throw err;
  }
}

function readEvent(data: unknown): Stripe.Event {
  const event = data as { id?: unknown; type?: unknown; data?: { object?: unknown } } | null;
  if (!event || typeof event.id !== 'string' || typeof event.type !== 'string' || typeof event.data?.object !== 'object') {
    throw new UnrecoverableError('malformed event: the job data is not a Stripe event with id, type and data.object');
  }
  return event as unknown as Stripe.Event;
}

/**
 * The job's event: the stored payload its PayloadRef names, read once (Redis keeps one compressed copy, in
 * the event index), or the data itself for a job queued before jobs carried references. A payload that
 * expired before the job ran (EVENT_PAYLOAD_MAX_MB, or age) fails the job at once and says so: it never
 * succeeds without having run.
 */
async function loadPayload(data: unknown, rt: StripeEventRuntime): Promise<unknown> {
  if (!isPayloadRef(data)) return data;
  const id = data.payloadOf;
  if (!rt.loadPayload) throw new Error('this processor cannot read stored payloads');
  const raw = await rt.loadPayload(id);
  if (raw === undefined) {
    throw new UnrecoverableError(
      `PAYLOAD_EXPIRED: the payload of ${id} is no longer stored (dropped by age or by EVENT_PAYLOAD_MAX_MB before the job ran); the event cannot be processed`,
    );
  }
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    throw new UnrecoverableError(`malformed event: the stored payload of ${id} is not JSON`);
  }
}

/**
 * Runs the handler registered for the event's type. The event index's status follows the job from the
 * worker's main process (EventStatusRecorder), so a job without a handler costs no Redis write here,
 * and one with a handler only what the handler logs and reports.
 */
export function runStripeEvent(job: StripeEventJob, rt: StripeEventRuntime): Promise<Record<string, unknown>> {
  // The event's place in its object's order was decided in the worker's main thread (OrderedWorker).
  const { place, data } = takePlace(job.data);
  // Untraced (no OTLP endpoint), the job runs exactly as it did before tracing existed.
  if (!tracingOn()) return runEvent(job, data, rt, place, undefined);
  // Traced (docs/operations.md#tracing): the job's span continues the event's trace from the move span.
  return traceJob(QUEUE_NAMES.stripeEvents, job, eventAttributes(job, data), (jobTrace) => runEvent(job, data, rt, place, jobTrace));
}

async function runEvent(
  job: StripeEventJob, jobData: unknown, rt: StripeEventRuntime, place: OrderPlace, jobTrace: JobTrace | undefined,
): Promise<{ status: string } & Record<string, unknown>> {
  // A type nobody handles needs no payload: the job is named by its type (a thin v1.* record's by the snapshot
  // type, which `get` maps alike), so the stored payload is not read for nothing.
  if (isPayloadRef(jobData) && !rt.handlers.get(job.name)) return { status: 'ignored' };
  const data = await loadPayload(jobData, rt);
  return runInPlace(job, data, rt, place, jobTrace);
}

async function runInPlace(
  job: StripeEventJob, data: unknown, rt: StripeEventRuntime, place: OrderPlace, jobTrace: JobTrace | undefined,
): Promise<{ status: string } & Record<string, unknown>> {
  // Out of order, for a handler that only wants the newest state: nothing is fetched, nothing runs.
  if (place.outOfOrder) {
    const type = (data as { type: string }).type;
    if (rt.handlers.get(type)?.skipIfSuperseded) return { status: 'superseded' };
  }
  const resolved = await resolve(data, rt, tracedServices(rt.services, jobTrace?.context));
  // The job's data, name and id already say which event it was: the result says only what became of it.
  if (!resolved) return { status: 'ignored' };
  const { event } = resolved;
  if (!jobTrace) return handle(job, rt, resolved, place, undefined);
  return jobTrace.child(`handle ${event.type}`, { 'stripe.event.id': event.id, 'stripe.event.type': event.type, 'hooklane.delivery': resolved.delivery }, (span, context) =>
    handle(job, rt, resolved, place, { context, log: logFields(span) }),
  );
}

async function handle(
  job: StripeEventJob,
  rt: StripeEventRuntime,
  { handler, event, account, delivery, notification }: Resolved,
  place: OrderPlace,
  traced: { context: Context; log: Record<string, string | undefined> } | undefined,
): Promise<{ status: string } & Record<string, unknown>> {
  const attempt = job.attemptsMade + 1;
  const services = tracedServices(rt.services, traced?.context);
  const logger = rt.logger.child({ eventId: event.id, jobId: job.id ?? event.id, ...(account ? { accountId: account } : {}), ...traced?.log });
  const result = await handler.handle(event, {
    attempt,
    // A job's log is a Redis key of its own per job (about 230 bytes for a line), kept as long as the job: by
    // default the line goes to stdout with the job's ids, and the event record already says what became of it.
    log: rt.jobLogs ? async (line) => job.log(line) : async (line) => logger.info(line),
    progress: (percent) => job.updateProgress(percent),
    logger,
    services,
    relatedObject: () => fetching(() => services.stripe.relatedObject(notification)),
    delivery,
    outOfOrder: place.outOfOrder,
    objectLease: place.lease,
  });
  // No automatic 100 % report: completion says it, and in a sandbox each report is a message and a write.
  // `outOfOrder` tells the worker's main process (its metrics) what the handler was told.
  return { status: 'succeeded', result, ...(place.outOfOrder ? { outOfOrder: true } : {}) };
}

/** The event's ids as span attributes, read from the job without validating it (resolve does). */
function eventAttributes(job: StripeEventJob, jobData: unknown): Record<string, string> {
  const data = jobData as { id?: unknown; type?: unknown } | null;
  // A job that carries a payload reference (every moved event) is named by its event's type.
  const typeName = typeof data?.type === 'string' ? data.type : job.name;
  const type: Record<string, string> = typeName ? { 'stripe.event.type': typeName } : {};
  // A thin notification's job is the event it stands for (jobId = that event's id): the notification is named beside it.
  if (isThin(data)) return { 'stripe.event.id': String(job.id ?? data.id), 'stripe.event_notification.id': data.id, ...type };
  return { 'stripe.event.id': typeof data?.id === 'string' ? data.id : String(job.id ?? ''), ...type };
}

/**
 * The services with each Stripe API read in a CLIENT span under `parent` (the job's span while the event is
 * fetched, the handler's while it runs). The span covers the read as the fetcher does it: the shared budget's
 * wait, the short shared cache, the request.
 */
function tracedServices(services: HandlerServices, parent: Context | undefined): HandlerServices {
  if (!parent) return services;
  const { stripe } = services;
  const call = <T>(template: string, attributes: Record<string, string>, read: () => Promise<T>) =>
    traceClientCall(parent, `GET ${template}`, { 'http.request.method': 'GET', 'url.template': template, 'rpc.system': 'stripe', ...attributes }, read);
  const accountOf = (account: string | null | undefined): Record<string, string> => (account ? { 'stripe.account.id': account } : {});
  return {
    ...services,
    stripe: {
      snapshotEvent: (id, account) => call('/v1/events/{id}', { 'stripe.event.id': id, ...accountOf(account) }, () => stripe.snapshotEvent(id, account)),
      thinEvent: (notification) => call('/v2/core/events/{id}', { 'stripe.event.id': notification.id, ...accountOf(notification.context) }, () => stripe.thinEvent(notification)),
      relatedObject: (notification) => {
        const url = notification.related_object?.url ?? '';
        return call(url.replace(/\/[^/]+$/, '/{id}') || '/{object}', { ...accountOf(notification.context) }, () => stripe.relatedObject(notification));
      },
    },
  };
}

/**
 * The sandboxed entry point for the `stripe-events` queue. No AsyncLocalStorage here: running one in the
 * sandbox turns on promise hooks for every promise of the thread (BullMQ's own included), which cost more
 * per job than the rest of this file; the handler's logger carries the event, job and account ids instead.
 */
export async function processStripeEvent(job: StripeEventJob): Promise<Record<string, unknown>> {
  return runStripeEvent(job, defaultRuntime());
}

export default processStripeEvent;
