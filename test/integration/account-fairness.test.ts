import { randomUUID } from 'node:crypto';
import { Queue, Worker, type Job } from 'bullmq';
import { AccountFairness } from '../../src/worker/ordering/account-fairness';
import { orderingBase } from '../../src/worker/ordering/object-order';
import { useRedis } from '../support/redis';

const STEP = 100;
const CONCURRENCY = 10;
const NOISY = 3000;
const QUIET = 5;

/**
 * One noisy account's backlog, then a quiet account's few events, queued as the intake mover queues them (batches
 * of 200, priorities from AccountFairness); one worker drains the queue. Where the quiet events come out is the
 * measure: the bound is in jobs ahead of them (2 × step per noisy account + what is active), not in time.
 */
describe('fairness between accounts with real BullMQ priorities', () => {
  const db = useRedis();

  async function drainOrder(fair: boolean): Promise<string[]> {
    const prefix = `test-${randomUUID()}`;
    const queue = new Queue('stripe-events', { connection: db.redis, prefix });
    const fairness = new AccountFairness(db.redis, { base: orderingBase(prefix), step: STEP, windowSeconds: 60 });
    const events = [
      ...Array.from({ length: NOISY }, (_, i) => ({ id: `noisy-${i}`, account: 'acct_noisy' })),
      ...Array.from({ length: QUIET }, (_, i) => ({ id: `quiet-${i}`, account: 'acct_quiet' })),
    ];
    for (let i = 0; i < events.length; i += 200) {
      const batch = events.slice(i, i + 200);
      const priorities = fair ? await fairness.priorities(batch.map((e) => e.account)) : undefined;
      await queue.addBulk(batch.map((e, k) => ({ name: 'x', data: e, opts: { jobId: e.id, ...(priorities ? { priority: priorities[k]! } : {}) } })));
    }
    const order: string[] = [];
    const connection = db.redis.duplicate({ maxRetriesPerRequest: null });
    let finish = () => {};
    const drained = new Promise<void>((resolve) => (finish = resolve));
    const worker = new Worker('stripe-events', async (job: Job) => {
      order.push(job.id!);
      if (order.length === events.length) finish();
    }, { connection, prefix, concurrency: CONCURRENCY });
    try {
      await drained;
    } finally {
      await worker.close();
      connection.disconnect();
      await queue.obliterate({ force: true });
      await queue.close();
    }
    return order;
  }

  it('a quiet account\'s events start within 2 × step + concurrency jobs, however large the noisy backlog before them', async () => {
    const order = await drainOrder(true);
    const positions = order.flatMap((id, i) => (id.startsWith('quiet-') ? [i] : []));
    expect(positions).toHaveLength(QUIET);
    expect(Math.max(...positions)).toBeLessThan(2 * STEP + CONCURRENCY + QUIET);
    // Each account's own events keep their order.
    expect(order.filter((id) => id.startsWith('quiet-'))).toEqual(Array.from({ length: QUIET }, (_, i) => `quiet-${i}`));
  });

  it('without it, the same quiet events wait behind the whole noisy backlog (what the test above guards against)', async () => {
    const order = await drainOrder(false);
    const first = order.findIndex((id) => id.startsWith('quiet-'));
    expect(first).toBeGreaterThanOrEqual(NOISY - CONCURRENCY);
  });
});
