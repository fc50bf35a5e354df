import { randomUUID } from 'node:crypto';
import { Queue, UnrecoverableError } from 'bullmq';
import pino from 'pino';
import { loadConfig } from '../../src/config';
import { QUEUE_NAMES, queueOptions } from '../../src/queues';
import { createWorker } from '../../src/worker/create-worker';
import { useRedis } from '../support/redis';

const silent = pino({ level: 'silent' });

/** Job retention is the worker's (JOB_REMOVE_*), not stored in each job's options. */
describe('job retention', () => {
  const db = useRedis();

  it('jobs queued without retention options are kept by the count limit of the worker that finishes them', async () => {
    const config = loadConfig({ NODE_ENV: 'test', REDIS_URL: db.server.url, QUEUE_PREFIX: `test-${randomUUID()}`, WORKER_SANDBOX: 'none', WORKER_CONCURRENCY: '1', JOB_REMOVE_COUNT_LIMIT: '2' });
    const queue = new Queue(QUEUE_NAMES.jobs, queueOptions(config, db.redis));
    const connection = db.redis.duplicate({ maxRetriesPerRequest: null });
    const worker = createWorker(config, silent, connection, {
      queue: QUEUE_NAMES.jobs,
      file: __filename,
      load: () => async (job) => {
        if ((job.data as { fail?: boolean }).fail) throw new UnrecoverableError('no');
        return 'done';
      },
    });
    try {
      let finished = 0;
      const allDone = new Promise<void>((resolve) => {
        const count = () => (finished += 1) === 8 && resolve();
        worker.on('completed', count);
        worker.on('failed', count);
      });
      const jobs = await queue.addBulk([1, 2, 3, 4, 5, 6, 7, 8].map((n) => ({ name: 'job', data: { n, fail: n > 4 }, opts: { jobId: `j${n}` } })));
      expect(jobs.every((job) => job.opts.removeOnComplete === undefined && job.opts.removeOnFail === undefined)).toBe(true);
      await allDone;

      expect(await queue.getJobCounts('completed', 'failed')).toEqual({ completed: 2, failed: 2 });
      // One at a time, in order: each list kept the two that finished last; the others are gone, hashes included.
      expect((await queue.getCompleted()).map((job) => job.id).sort()).toEqual(['j3', 'j4']);
      expect((await queue.getFailed()).map((job) => job.id).sort()).toEqual(['j7', 'j8']);
      expect(await db.redis.exists(`${config.QUEUE_PREFIX}:${QUEUE_NAMES.jobs}:j1`, `${config.QUEUE_PREFIX}:${QUEUE_NAMES.jobs}:j5`)).toBe(0);
    } finally {
      await worker.close();
      connection.disconnect();
      await queue.obliterate({ force: true });
      await queue.close();
    }
  });
});
