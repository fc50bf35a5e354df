import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import pino from 'pino';
import { loadConfig } from '../../src/config';
import { QUEUE_NAMES } from '../../src/queues';
import { createWorker } from '../../src/worker/create-worker';
import { useRedis } from '../support/redis';

const silent = pino({ level: 'silent' });

/** The worker's per-minute metrics (the console's throughput chart) follow METRICS_ENABLED. */
describe('worker metrics', () => {
  const db = useRedis();

  it.each([
    ['true', 3],
    ['false', 0],
  ])('METRICS_ENABLED=%s: %i completed jobs counted', async (enabled, counted) => {
    const config = loadConfig({ NODE_ENV: 'test', REDIS_URL: db.server.url, QUEUE_PREFIX: `test-${randomUUID()}`, METRICS_ENABLED: enabled, WORKER_SANDBOX: 'none' });
    const queue = new Queue(QUEUE_NAMES.jobs, { connection: db.redis, prefix: config.QUEUE_PREFIX });
    const connection = db.redis.duplicate({ maxRetriesPerRequest: null });
    const worker = createWorker(config, silent, connection, {
      queue: QUEUE_NAMES.jobs,
      file: __filename,
      load: () => async () => 'done',
    });
    try {
      let completed = 0;
      const allDone = new Promise<void>((resolve) => worker.on('completed', () => (completed += 1) === 3 && resolve()));
      await queue.addBulk([1, 2, 3].map((n) => ({ name: 'job', data: { n } })));
      await allDone;
      const metrics = await queue.getMetrics('completed');
      expect(metrics.meta.count).toBe(counted);
    } finally {
      await worker.close();
      connection.disconnect();
      await queue.obliterate({ force: true });
      await queue.close();
    }
  });
});
