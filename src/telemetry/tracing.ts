import { SpanKind, SpanStatusCode, trace, ROOT_CONTEXT, type Attributes, type Context, type Span, type Tracer } from '@opentelemetry/api';
import type { Logger } from '../logger';

/**
 * One trace per event (docs/operations.md#tracing): the web's intake span, the mover's span, the job's and the
 * handler's, and each Stripe API call, joined through Redis by the W3C trace context stored with the event.
 *
 * Tracing is on when an OTLP endpoint is set (and OTEL_SDK_DISABLED is not). Off, this module is all that is
 * loaded (with @opentelemetry/api's types and no-op helpers): every hook answers `undefined` after one check of a
 * module variable, and the callers keep their untraced path unchanged.
 */

/** The W3C trace context as it travels in the intake log and the job's options. */
export interface TraceCarrier {
  traceparent: string;
  tracestate?: string;
}

/** What otel-sdk.ts hands over once loaded. */
export interface TracingSdk {
  tracer: Tracer;
  inject(context: Context): TraceCarrier;
  extract(carrier: TraceCarrier): Context;
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

export interface TracingConfig {
  OTEL_EXPORTER_OTLP_ENDPOINT?: string | undefined;
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?: string | undefined;
  OTEL_SERVICE_NAME?: string | undefined;
  OTEL_SDK_DISABLED: boolean;
}

/** Set once per JavaScript realm (the main thread, each sandbox thread or child process) by startTracing. */
let sdk: TracingSdk | undefined;

/** Whether the config asks for traces: an endpoint set and the SDK not disabled. */
export function tracingConfigured(config: TracingConfig): boolean {
  return !config.OTEL_SDK_DISABLED && Boolean(config.OTEL_EXPORTER_OTLP_ENDPOINT || config.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

/**
 * Loads the SDK when the config asks for traces (never otherwise) and resolves to whether tracing is on.
 * Idempotent per realm: the in-process worker's processor shares the worker's SDK; a sandbox starts its own.
 */
export function startTracing(
  config: TracingConfig,
  processName: 'web' | 'worker',
  options: { sandbox?: boolean; logger?: Pick<Logger, 'warn'> } = {},
): boolean {
  if (sdk) return true;
  if (!tracingConfigured(config)) return false;
  const { startSdk } = require('./otel-sdk') as typeof import('./otel-sdk');
  const logger = options.logger;
  sdk = startSdk({
    serviceName: config.OTEL_SERVICE_NAME ?? `hooklane-${processName}`,
    sandbox: options.sandbox ?? false,
    ...(logger ? { warn: (fields: Record<string, unknown>, msg: string) => logger.warn(fields, msg) } : {}),
  });
  return true;
}

/** Exports what is buffered and stops, within `timeoutMs` (a collector that is away must not hold up shutdown). */
export async function stopTracing(timeoutMs = 2000): Promise<void> {
  const current = sdk;
  if (!current) return;
  sdk = undefined;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`spans not exported within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([current.shutdown(), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** Whether spans are being made in this realm. */
export const tracingOn = (): boolean => sdk !== undefined;

/** `trace_id` and `span_id` for a log line about the span's work (pino lines name their ids themselves). */
export function logFields(span: Span | undefined): { trace_id?: string; span_id?: string } {
  if (!span) return {};
  const { traceId, spanId } = span.spanContext();
  return { trace_id: traceId, span_id: spanId };
}

function fail(span: Span, err: unknown): void {
  const error = err as { code?: unknown; name?: unknown; message?: unknown };
  span.setAttribute('error.type', typeof error?.code === 'string' ? error.code : typeof error?.name === 'string' ? error.name : 'Error');
  span.setStatus({ code: SpanStatusCode.ERROR, ...(typeof error?.message === 'string' ? { message: error.message } : {}) });
}

/** A span around `work`, ended when it settles; failures mark it as an error. */
async function within<T>(span: Span, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    fail(span, err);
    throw err;
  } finally {
    span.end();
  }
}

export const HTTP_INTAKE_ROUTE = '/webhooks/stripe';

/** The web's part: what the intake learns while a delivery is traced. */
export interface IntakeTrace {
  /**
   * Called once the delivery is verified: starts the SERVER span (dated from when the delivery arrived) and
   * answers the carrier to store with the event. A delivery refused before (a bad signature, a malformed event)
   * never calls it and leaves no span: nobody anonymous makes traces we pay for.
   */
  begin(): TraceCarrier;
  /** The span once begun, for the delivery's log line. */
  span(): Span | undefined;
}

/**
 * Runs a webhook delivery's intake; once `begin()` is called, in a SERVER span (a new trace: Stripe sends no
 * trace context) ended when `work` settles. `work` resolves to the answer; its ids become attributes.
 */
export function traceIntake<T extends { status: number; eventId: string; accountId?: string; duplicate?: boolean }>(
  work: (trace: IntakeTrace) => Promise<T>,
): Promise<T> {
  const tracing = sdk!;
  const arrived = performance.timeOrigin + performance.now();
  let span: Span | undefined;
  const intake: IntakeTrace = {
    begin: () => {
      span ??= tracing.tracer.startSpan(`POST ${HTTP_INTAKE_ROUTE}`, {
        kind: SpanKind.SERVER,
        startTime: arrived,
        attributes: { 'http.request.method': 'POST', 'http.route': HTTP_INTAKE_ROUTE, 'url.path': HTTP_INTAKE_ROUTE },
      }, ROOT_CONTEXT);
      return tracing.inject(trace.setSpan(ROOT_CONTEXT, span));
    },
    span: () => span,
  };
  return work(intake).then(
    (answer) => {
      span?.setAttributes({
        'http.response.status_code': answer.status,
        'stripe.event.id': answer.eventId,
        ...(answer.accountId ? { 'stripe.account.id': answer.accountId } : {}),
        ...(answer.duplicate !== undefined ? { 'hooklane.intake.duplicate': answer.duplicate } : {}),
      });
      span?.end();
      return answer;
    },
    (err: unknown) => {
      if (span) {
        const status = (err as { status?: unknown }).status;
        if (typeof status === 'number') span.setAttribute('http.response.status_code', status);
        fail(span, err);
        span.end();
      }
      throw err;
    },
  );
}

/** An event the mover moves, as the move spans need it. */
export interface MovedForTrace {
  eventId: string;
  eventType: string;
  /** From the intake log; absent: the web did not trace it (a root span then). */
  carrier?: TraceCarrier | undefined;
}

export interface MoveTrace {
  /** The job's `opts.telemetry` (BullMQ's field for it): the move span's context, for the job's span. */
  jobTelemetry(index: number): { metadata: string };
  end(err?: unknown): void;
  spans: Span[];
}

/**
 * One PRODUCER span per moved event (`send <queue>`), each a child of its intake span: a batch holds events of
 * many traces. Answers undefined when tracing is off.
 */
export function traceMove(queue: string, events: readonly MovedForTrace[]): MoveTrace | undefined {
  const tracing = sdk;
  if (!tracing) return undefined;
  const spans = events.map((event) =>
    tracing.tracer.startSpan(`send ${queue}`, {
      kind: SpanKind.PRODUCER,
      attributes: {
        ...messaging(queue, 'send', event.eventId),
        'messaging.operation.name': 'addBulk',
        'messaging.batch.message_count': events.length,
        'stripe.event.id': event.eventId,
        'stripe.event.type': event.eventType,
      },
    }, event.carrier ? tracing.extract(event.carrier) : ROOT_CONTEXT),
  );
  return {
    spans,
    jobTelemetry: (index) => ({ metadata: JSON.stringify(tracing.inject(trace.setSpan(ROOT_CONTEXT, spans[index]!))) }),
    end: (err) => {
      for (const span of spans) {
        if (err !== undefined) fail(span, err);
        span.end();
      }
    },
  };
}

function messaging(queue: string, operation: 'send' | 'process', messageId: string): Attributes {
  return {
    'messaging.system': 'bullmq',
    'messaging.operation.type': operation,
    'messaging.destination.name': queue,
    'messaging.message.id': messageId,
  };
}

/** The carrier a job's `opts.telemetry.metadata` holds (traceMove), or undefined. */
function carrierOf(metadata: string | undefined): TraceCarrier | undefined {
  if (!metadata) return undefined;
  try {
    const carrier = JSON.parse(metadata) as Partial<TraceCarrier> | null;
    return typeof carrier?.traceparent === 'string' ? (carrier as TraceCarrier) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Where a job's trace context is: `telemetry.metadata` on a Job, `tm` on a sandboxed job (BullMQ hands sandboxes
 * the options as stored, with their short names).
 */
export interface JobTelemetryOpts {
  telemetry?: { metadata?: string };
  tm?: string;
}

/** What a job's processor traces under: its span, and children of it. */
export interface JobTrace {
  span: Span;
  context: Context;
  /** A child span around `work` (INTERNAL unless said). */
  child<T>(name: string, attributes: Attributes, work: (span: Span, context: Context) => Promise<T>, kind?: SpanKind): Promise<T>;
}

/**
 * The job's CONSUMER span (`process <queue>`), a child of the move span whose context the job carries, around
 * `work`. Without tracing, `work` runs with undefined.
 */
export function traceJob<T>(
  queue: string,
  job: { id?: string | undefined; attemptsMade: number; opts?: JobTelemetryOpts | undefined },
  attributes: Attributes,
  work: (trace: JobTrace | undefined) => Promise<T>,
): Promise<T> {
  const tracing = sdk;
  if (!tracing) return work(undefined);
  const carrier = carrierOf(job.opts?.telemetry?.metadata ?? job.opts?.tm);
  const span = tracing.tracer.startSpan(`process ${queue}`, {
    kind: SpanKind.CONSUMER,
    attributes: { ...messaging(queue, 'process', job.id ?? ''), 'hooklane.job.attempt': job.attemptsMade + 1, ...attributes },
  }, carrier ? tracing.extract(carrier) : ROOT_CONTEXT);
  const context = trace.setSpan(ROOT_CONTEXT, span);
  const child: JobTrace['child'] = (name, childAttributes, childWork, kind = SpanKind.INTERNAL) => childSpan(tracing.tracer, context, name, childAttributes, childWork, kind);
  return within(span, () => work({ span, context, child }));
}

function childSpan<T>(
  tracer: Tracer,
  parent: Context,
  name: string,
  attributes: Attributes,
  work: (span: Span, context: Context) => Promise<T>,
  kind: SpanKind,
): Promise<T> {
  const span = tracer.startSpan(name, { kind, attributes }, parent);
  const context = trace.setSpan(parent, span);
  return within(span, () => work(span, context));
}

/** A CLIENT span for a call to an outside API, under `parent` (a JobTrace's context or a child's). */
export function traceClientCall<T>(parent: Context, name: string, attributes: Attributes, work: () => Promise<T>): Promise<T> {
  const tracing = sdk;
  if (!tracing) return work();
  return childSpan(tracing.tracer, parent, name, attributes, work, SpanKind.CLIENT);
}

export { SpanKind };
