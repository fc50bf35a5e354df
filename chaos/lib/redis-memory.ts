import { Queue } from 'bullmq';
import { Redis } from 'ioredis';

export interface RedisMemory {
  usedBytes: number;
  maxBytes: number;
}

export async function readMemory(redisUrl: string): Promise<RedisMemory> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  try {
    const info = await redis.info('memory');
    const field = (name: string) => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(info)?.[1] ?? 0);
    return { usedBytes: field('used_memory'), maxBytes: field('maxmemory') };
  } finally {
    redis.disconnect();
  }
}

/** Sets maxmemory (0 = no limit) on the stack's Redis, as a parameter group change would on ElastiCache. */
export async function setMaxmemory(redisUrl: string, bytes: number): Promise<void> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  try {
    await redis.config('SET', 'maxmemory', String(bytes));
  } finally {
    redis.disconnect();
  }
}

/**
 * What fills a Redis in the incident the scenario plays: a pile of big jobs nobody will run soon (delayed an
 * hour) in the jobs queue, added the way the jobs API adds them. Returns their ids.
 */
export async function addJobPile(redisUrl: string, count: number, bytesEach: number, prefix = 'hooklane'): Promise<string[]> {
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue('jobs', { connection, prefix });
  try {
    const blob = 'x'.repeat(bytesEach);
    const jobs = await queue.addBulk(Array.from({ length: count }, (_, n) => ({ name: 'job', data: { n, blob }, opts: { delay: 3_600_000 } })));
    return jobs.map((job) => job.id!);
  } finally {
    await queue.close();
    connection.disconnect();
  }
}
