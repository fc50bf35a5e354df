import path from 'node:path';
import { QUEUE_NAMES, type QueueName } from '../queues';
import type { ProcessableJob } from './processors/generic-job';

/** In-process, BullMQ passes the job's lock token too. */
export type ProcessorFn = (job: ProcessableJob, token?: string) => Promise<unknown>;

/**
 * One processor per queue. `file` is what BullMQ runs sandboxed (a worker thread or a child process);
 * `load` returns the same function for in-process mode (WORKER_SANDBOX=none).
 */
export interface ProcessorRegistration {
  queue: QueueName;
  file: string;
  load: () => ProcessorFn;
}

const processorFile = (name: string) => path.join(__dirname, 'processors', `${name}.js`);

export const PROCESSORS: readonly ProcessorRegistration[] = [
  {
    queue: QUEUE_NAMES.jobs,
    file: processorFile('generic-job'),
    load: () => (require('./processors/generic-job') as typeof import('./processors/generic-job')).processGenericJob,
  },
  {
    queue: QUEUE_NAMES.stripeEvents,
    file: processorFile('stripe-event'),
    load: () => (require('./processors/stripe-event') as typeof import('./processors/stripe-event')).processStripeEvent as ProcessorFn,
  },
];
