import { startBenchRedis, type BenchRedis } from '../../../bench/lib/bench-redis';

describe('the bench Redis', () => {
  let redis: BenchRedis;
  beforeAll(async () => {
    redis = await startBenchRedis();
  });
  afterAll(async () => {
    await redis.stop();
  });

  it('starts no AOF rewrite by itself (flush compacts between runs); appends and fsyncs as configured', async () => {
    expect(await redis.client.config('GET', 'auto-aof-rewrite-percentage')).toEqual(['auto-aof-rewrite-percentage', '0']);
    expect(await redis.client.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
    expect(await redis.client.config('GET', 'appendfsync')).toEqual(['appendfsync', 'everysec']);
  });

  it('flush empties it and leaves a compacted AOF with no rewrite running, whatever the last run wrote', async () => {
    const value = 'x'.repeat(1000);
    for (let i = 0; i < 25; i += 1) {
      const pipeline = redis.client.pipeline();
      for (let k = 0; k < 1000; k += 1) pipeline.set(`k:${i}:${k}`, value);
      await pipeline.exec();
    }
    const size = async () => Number(/^aof_current_size:(\d+)/m.exec(await redis.client.info('persistence'))?.[1]);
    expect(await size()).toBeGreaterThan(20_000_000);
    await redis.flush();
    expect(await redis.client.dbsize()).toBe(0);
    const info = await redis.client.info('persistence');
    expect(info).toMatch(/^aof_rewrite_in_progress:0/m);
    expect(await size()).toBeLessThan(1_000_000);
  });
});
