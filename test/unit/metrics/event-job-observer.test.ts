import { EventEmitter } from 'node:events';
import type { Job, Worker } from 'bullmq';
import { metricsRegistryFor } from '../../../src/metrics/prometheus';
import { observeEventJobs } from '../../../src/worker/prometheus-metrics';
import { parsePrometheusText, sampleValue } from '../../support/prometheus-text';

// The processor's result (runStripeEvent) says what per-object ordering made of an event; the worker's main
// process turns it into the ordering metrics. A plain emitter stands for the Worker: only its events are used.
describe('observeEventJobs: ordering outcomes from the processor\'s result', () => {
  const type = 'invoice.updated';
  const job = (returnvalue: unknown) => ({ name: type, timestamp: 1_000, processedOn: 1_500, finishedOn: 2_000, returnvalue, opts: {} }) as unknown as Job;

  test('superseded and out-of-order results are counted by type; an in-order one is not', async () => {
    const worker = new EventEmitter();
    observeEventJobs(worker as unknown as Worker, (t) => (t === type ? t : undefined));
    worker.emit('completed', job({ status: 'superseded' }));
    worker.emit('completed', job({ status: 'succeeded', result: null, outOfOrder: true }));
    worker.emit('completed', job({ status: 'succeeded', result: null }));
    const metrics = parsePrometheusText(await metricsRegistryFor('worker').metrics());
    expect({
      superseded: sampleValue(metrics, 'hooklane_events_superseded_total', { type }),
      outOfOrder: sampleValue(metrics, 'hooklane_events_out_of_order_total', { type }),
      supersededJobs: sampleValue(metrics, 'hooklane_event_job_duration_seconds_count', { type, outcome: 'superseded' }),
      completedJobs: sampleValue(metrics, 'hooklane_event_job_duration_seconds_count', { type, outcome: 'completed' }),
    }).toEqual({ superseded: 1, outOfOrder: 2, supersededJobs: 1, completedJobs: 2 });
  });
});
