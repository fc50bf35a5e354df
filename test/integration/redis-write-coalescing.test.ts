import type { Redis } from 'ioredis';
import { coalesceWritesThisTurn, createRedis, waitForRedis } from '../../src/redis';
import { startRedis, type TestRedis } from '../support/redis';

/** Counts the socket's real writes (what reaches the kernel), whatever Node batches them into. */
function countSocketWrites(redis: Redis): { writes: number; chunks: number } {
  const socket = redis.stream as typeof redis.stream & {
    _write: (...args: unknown[]) => void;
    _writev: (chunks: unknown[], callback: unknown) => void;
  };
  const counts = { writes: 0, chunks: 0 };
  const write = socket._write.bind(socket);
  const writev = socket._writev.bind(socket);
  socket._write = (...args) => {
    counts.writes += 1;
    counts.chunks += 1;
    write(...args);
  };
  socket._writev = (chunks, callback) => {
    counts.writes += 1;
    counts.chunks += chunks.length;
    writev(chunks, callback);
  };
  return counts;
}

describe('coalesceWritesThisTurn', () => {
  let server: TestRedis;
  let redis: Redis;

  beforeAll(async () => {
    server = await startRedis({ appendOnly: false });
  });
  beforeEach(async () => {
    redis = createRedis({ REDIS_URL: server.url }, 'producer');
    await waitForRedis(redis, 20_000);
  });
  afterEach(() => {
    redis.disconnect();
  });
  afterAll(async () => {
    await server.destroy();
  });

  it("sends the commands of one event-loop turn in one socket write, each with its own reply, in order", async () => {
    const counts = countSocketWrites(redis);
    const replies: Promise<unknown>[] = [];
    for (let i = 0; i < 20; i += 1) {
      coalesceWritesThisTurn(redis);
      replies.push(redis.incr('coalesce:counter'));
    }

    expect(await Promise.all(replies)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(counts).toEqual({ writes: 1, chunks: 20 });
  });

  it('holds nothing past the turn: a command in a later turn goes out on its own', async () => {
    coalesceWritesThisTurn(redis);
    await redis.set('coalesce:key', 'first');
    const counts = countSocketWrites(redis);

    await expect(redis.get('coalesce:key')).resolves.toBe('first');
    expect(counts.writes).toBe(1);
  });

  it('without it, each command is a socket write of its own', async () => {
    const counts = countSocketWrites(redis);
    await Promise.all(Array.from({ length: 5 }, () => redis.ping()));

    expect(counts.chunks).toBe(5);
    expect(counts.writes).toBeGreaterThan(1);
  });
});
