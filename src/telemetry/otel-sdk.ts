import { diag, DiagLogLevel, ROOT_CONTEXT, type Context, type TextMapGetter, type TextMapSetter } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import type { TraceCarrier, TracingSdk } from './tracing';

/*
 * Loaded only when tracing is on (tracing.ts requires it then): with no endpoint, none of the SDK's modules are
 * ever read. The exporter, the sampler (OTEL_TRACES_SAMPLER/_ARG) and the batch processor (OTEL_BSP_*) read
 * their standard variables themselves.
 */

const setter: TextMapSetter<TraceCarrier> = {
  set: (carrier, key, value) => {
    if (key === 'traceparent' || key === 'tracestate') carrier[key] = value;
  },
};
const getter: TextMapGetter<TraceCarrier> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => (key === 'traceparent' || key === 'tracestate' ? carrier[key] : undefined),
};

/** At most one line a minute about spans that could not be exported (a collector away fails every batch). */
const EXPORT_ERROR_EVERY_MS = 60_000;

/**
 * The SDK reports what goes wrong (a collector that refuses or is away) through `diag`, silent by default: errors
 * become a `warn` line, the first at once and then at most one a minute, with how many were left out.
 */
function reportErrors(warn: (fields: Record<string, unknown>, msg: string) => void): void {
  let last = 0;
  let skipped = 0;
  const error = (message: string, ...args: unknown[]) => {
    const now = Date.now();
    if (now - last < EXPORT_ERROR_EVERY_MS) {
      skipped += 1;
      return;
    }
    last = now;
    const detail = args.map((a) => (a instanceof Error ? a.message : typeof a === 'string' ? a : '')).filter(Boolean).join(' ');
    warn({ err: `${message} ${detail}`.trim().slice(0, 500), ...(skipped ? { skipped } : {}) }, 'traces could not be exported');
    skipped = 0;
  };
  const quiet = () => undefined;
  diag.setLogger({ error, warn: quiet, info: quiet, debug: quiet, verbose: quiet }, { logLevel: DiagLogLevel.ERROR, suppressOverrideMessage: true });
}

export function startSdk(options: { serviceName: string; sandbox: boolean; warn?: (fields: Record<string, unknown>, msg: string) => void }): TracingSdk {
  if (options.warn) reportErrors(options.warn);
  const propagator = new W3CTraceContextPropagator();
  const provider = new BasicTracerProvider({
    resource: defaultResource().merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: options.serviceName })),
    spanProcessors: [
      new BatchSpanProcessor(new OTLPTraceExporter(), {
        // A sandbox (a worker thread, a child process) is ended by BullMQ without a hook to flush in; a short
        // delay bounds what it can lose then. OTEL_BSP_SCHEDULE_DELAY still wins when set.
        ...(options.sandbox && !process.env.OTEL_BSP_SCHEDULE_DELAY ? { scheduledDelayMillis: 200 } : {}),
      }),
    ],
  });
  // Not registered globally, and no context manager: spans name their parent explicitly (no AsyncLocalStorage,
  // whose promise hooks would cost every process on every promise; see src/logger.ts).
  return {
    tracer: provider.getTracer('hooklane'),
    inject: (context: Context) => {
      const carrier: TraceCarrier = { traceparent: '' };
      propagator.inject(context, carrier, setter);
      return carrier;
    },
    extract: (carrier: TraceCarrier) => propagator.extract(ROOT_CONTEXT, carrier, getter),
    flush: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
  };
}
