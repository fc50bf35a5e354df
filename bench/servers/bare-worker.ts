import path from 'node:path';
import { Worker } from 'bullmq';

/**
 * The reference worker: a bare BullMQ Worker on a default connection with a no-op processor, in-process
 * (WORKER_SANDBOX=none) or sandboxed in a worker thread (thread), at WORKER_CONCURRENCY.
 */
const url = new URL(process.env.REDIS_URL!);
const sandbox = process.env.WORKER_SANDBOX ?? 'none';
const processor = sandbox === 'none' ? async () => undefined : path.join(__dirname, 'noop-processor.js');
const worker = new Worker(process.env.QUEUE_NAME ?? 'stripe-events', processor, {
  connection: { host: url.hostname, port: Number(url.port), maxRetriesPerRequest: null },
  prefix: process.env.QUEUE_PREFIX ?? 'hooklane',
  concurrency: Number(process.env.WORKER_CONCURRENCY ?? 10),
  useWorkerThreads: sandbox === 'thread',
});
worker.on('error', (err) => process.stderr.write(`worker error: ${err.message}\n`));
process.on('SIGTERM', () => {
  void worker.close().then(() => process.exit(0));
});
process.stdout.write('worker started\n');
