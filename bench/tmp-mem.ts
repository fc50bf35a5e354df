import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { startBenchRedis } from './lib/bench-redis';
import { signedEvents } from './lib/signed-events';
import { EventIndex } from '../src/events/event-index';
import { summariseEvent } from '../src/events/event-record';
import { loadConfig } from '../src/config';
import { defaultJobOptions } from '../src/queues';
(async () => {
  const redis = await startBenchRedis();
  const c = redis.client;
  if (process.argv[2]) await c.config('SET', 'hash-max-listpack-value', process.argv[2]);
  const config = loadConfig({ REDIS_URL: redis.url });
  const index = new EventIndex(c, config);
  const q = new Queue('stripe-events', { connection: c, prefix: 'hooklane', defaultJobOptions: defaultJobOptions(config) });
  const w = new Worker('stripe-events', async () => ({ status: 'succeeded', result: { customer: 'cus_NffrFeUfNV2Hib' } }), { connection: new Redis(redis.url, { maxRetriesPerRequest: null }), prefix: 'hooklane', concurrency: 50 });
  await new Promise((r) => setTimeout(r, 500));
  const before = await redis.usedMemory();
  const N = 20000;
  const evs = signedEvents(N, { prefix: 'memx', type: 'customer.created', object: 'customer' });
  for (let i = 0; i < N; i += 500) {
    const chunk = evs.slice(i, i + 500).map((e) => ({ e, ev: JSON.parse(e.body) }));
    await Promise.all(chunk.map(({ e, ev }) => index.record({ ...summariseEvent(ev), source: 'webhook' }, e.body, Date.now())));
    await q.addBulk(chunk.map(({ ev }) => ({ name: ev.type, data: { payloadOf: ev.id }, opts: { jobId: ev.id } })));
  }
  while ((await q.getCompletedCount()) < N) await new Promise((r) => setTimeout(r, 200));
  await w.close();
  const after = await redis.usedMemory();
  const sums = new Map<string, number>();
  for (const k of await c.keys('*')) {
    const kind = k.replace(/evt_memx_\w+|cus_\w+/, '*');
    sums.set(kind, (sums.get(kind) ?? 0) + Number(await c.memory('USAGE', k, 'SAMPLES', '0')));
  }
  console.log('per event', Math.round((after - before) / N));
  for (const [k, v] of [...sums].sort((a, b) => b[1] - a[1]).slice(0, 14)) console.log(k, Math.round(v / N));
  await redis.stop();
  process.exit(0);
})();
