/**
 * With no OTLP endpoint, tracing must cost nothing: the SDK's packages are never loaded, and every hook runs the
 * work it wraps and nothing else. Each SDK package is mocked with a factory that records being loaded (jest
 * runs a factory only when something requires the module) and then hands over the real package.
 */
const loaded = new Set<string>();
jest.mock('@opentelemetry/sdk-trace-base', () => {
  loaded.add('@opentelemetry/sdk-trace-base');
  return jest.requireActual('@opentelemetry/sdk-trace-base');
});
jest.mock('@opentelemetry/exporter-trace-otlp-http', () => {
  loaded.add('@opentelemetry/exporter-trace-otlp-http');
  return jest.requireActual('@opentelemetry/exporter-trace-otlp-http');
});
jest.mock('@opentelemetry/core', () => {
  loaded.add('@opentelemetry/core');
  return jest.requireActual('@opentelemetry/core');
});

import { loadConfig } from '../../../src/config';

const base = { REDIS_URL: 'redis://127.0.0.1:6379' };
const tracing = () => require('../../../src/telemetry/tracing') as typeof import('../../../src/telemetry/tracing');

beforeEach(() => {
  jest.resetModules();
  loaded.clear();
});
afterEach(async () => {
  await tracing().stopTracing(100).catch(() => undefined);
});

describe('tracing without an endpoint', () => {
  test('loading what the web and the worker load, and starting tracing, reads no SDK package', () => {
    // The modules with hooks in them (the intake, the mover, the processor) and the tracing module itself.
    require('../../../src/stripe/webhook-intake');
    require('../../../src/worker/intake-mover');
    require('../../../src/worker/processors/stripe-event');
    const { startTracing, tracingOn } = tracing();
    expect(startTracing(loadConfig(base), 'web')).toBe(false);
    expect(tracingOn()).toBe(false);
    expect([...loaded]).toEqual([]);
  });

  test('OTEL_SDK_DISABLED=true keeps it off even with an endpoint', () => {
    const { startTracing, tracingOn } = tracing();
    expect(startTracing(loadConfig({ ...base, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_SDK_DISABLED: 'true' }), 'worker')).toBe(false);
    expect(tracingOn()).toBe(false);
    expect([...loaded]).toEqual([]);
  });

  test('the hooks run the work they wrap and make no span', async () => {
    const { traceMove, traceJob, traceClientCall, logFields } = tracing();
    expect(traceMove('stripe-events', [{ eventId: 'evt_1', eventType: 'customer.created' }])).toBeUndefined();
    await expect(traceJob('stripe-events', { id: 'evt_1', attemptsMade: 0 }, {}, async (job) => job)).resolves.toBeUndefined();
    await expect(traceClientCall({} as never, 'GET /v1/events/{id}', {}, async () => 'read')).resolves.toBe('read');
    expect(logFields(undefined)).toEqual({});
  });

  test('with an endpoint the SDK is loaded (so the checks above can fail)', () => {
    const { startTracing, tracingOn } = tracing();
    expect(startTracing(loadConfig({ ...base, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9' }), 'web')).toBe(true);
    expect(tracingOn()).toBe(true);
    expect([...loaded].sort()).toEqual(['@opentelemetry/core', '@opentelemetry/exporter-trace-otlp-http', '@opentelemetry/sdk-trace-base']);
  });
});

describe('the tracing keys', () => {
  test('a bad sampler or ratio stops the process at boot, naming the key', () => {
    expect(() => loadConfig({ ...base, OTEL_TRACES_SAMPLER: 'sometimes' })).toThrow(/OTEL_TRACES_SAMPLER/);
    expect(() => loadConfig({ ...base, OTEL_TRACES_SAMPLER_ARG: '2' })).toThrow(/OTEL_TRACES_SAMPLER_ARG: a ratio from 0 to 1/);
    expect(() => loadConfig({ ...base, OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' })).toThrow(/OTEL_EXPORTER_OTLP_ENDPOINT/);
  });
});
