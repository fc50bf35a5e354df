import type { Redis } from 'ioredis';
import { ReplyError } from 'ioredis';
import { AppError } from '../../src/errors';
import { withRedisDeadline } from '../../src/jobs';
import { isRedisUnavailableError } from '../../src/redis-errors';

const ready = { status: 'ready' } as Redis;
const failWith = (err: unknown) => withRedisDeadline(ready, 1000, () => Promise.reject(err));
const errno = (code: string) => Object.assign(new Error(`connect ${code} 127.0.0.1:6379`), { code });

describe('withRedisDeadline tells an outage from a bug', () => {
  test.each([
    ['a refused connection', errno('ECONNREFUSED')],
    ['a reset connection', errno('ECONNRESET')],
    ['a closed connection', new Error('Connection is closed.')],
    ['no offline queue while reconnecting', new Error("Stream isn't writeable and enableOfflineQueue options is false")],
    ['ioredis giving up retrying', Object.assign(new Error('Reached the max retries per request limit (which is 1).'), { name: 'MaxRetriesPerRequestError' })],
    ['a Redis at maxmemory with noeviction', new ReplyError("OOM command not allowed when used memory > 'maxmemory'.")],
    ['OOM inside a script (Redis 6 wording)', new ReplyError("ERR Error running script (call to f_1): @user_script:1: -OOM command not allowed when used memory > 'maxmemory'.")],
    ['a replica during failover', new ReplyError("READONLY You can't write against a read only replica.")],
    ['a Redis still loading its data', new ReplyError('LOADING Redis is loading the dataset in memory')],
  ])('%s is REDIS_UNAVAILABLE (503 + Retry-After)', async (_what, err) => {
    expect(isRedisUnavailableError(err)).toBe(true);
    const thrown = await failWith(err).catch((e: unknown) => e);
    expect(thrown).toBeInstanceOf(AppError);
    expect(thrown).toMatchObject({ code: 'REDIS_UNAVAILABLE', status: 503, headers: { 'Retry-After': expect.any(String) } });
  });

  test.each([
    ['WRONGTYPE', new ReplyError('WRONGTYPE Operation against a key holding the wrong kind of value')],
    ['a script error', new ReplyError('ERR user_script:1: Script attempted to access nonexistent global variable')],
    ['a RangeError', new RangeError('Invalid array length')],
    ['a TypeError', new TypeError("Cannot read properties of undefined (reading 'id')")],
    ['a thrown string', 'boom'],
  ])('%s propagates unchanged (a bug: 500 INTERNAL, logged at error)', async (_what, err) => {
    expect(isRedisUnavailableError(err)).toBe(false);
    await expect(failWith(err)).rejects.toBe(err);
  });

  test('an AppError thrown inside keeps its code', async () => {
    const err = new AppError('IDEMPOTENCY_KEY_REUSED');
    await expect(failWith(err)).rejects.toBe(err);
  });

  test('no answer within the deadline is REDIS_UNAVAILABLE', async () => {
    const never = new Promise<never>(() => undefined);
    await expect(withRedisDeadline(ready, 50, () => never)).rejects.toMatchObject({ code: 'REDIS_UNAVAILABLE' });
  });

  test('a connection that is not ready is REDIS_UNAVAILABLE without trying', async () => {
    const write = jest.fn();
    await expect(withRedisDeadline({ status: 'reconnecting' } as Redis, 1000, write)).rejects.toMatchObject({ code: 'REDIS_UNAVAILABLE' });
    expect(write).not.toHaveBeenCalled();
  });
});
