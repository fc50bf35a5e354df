import { Redis } from 'ioredis';
import { RefreshLock } from '../../src/oauth/refresh-lock';
import { TokenRefresher } from '../../src/oauth/token-refresh';
import { waitForRedis } from '../../src/redis';
import { startRedis, type TestRedis } from '../support/redis';

const caller = { userId: 'usr_1', accountId: 'acct_1' };
let server: TestRedis;
let redis: Redis;
let prefix: string;

beforeAll(async () => {
  server = await startRedis({ appendOnly: false });
  redis = new Redis(server.url);
  await waitForRedis(redis, 20_000);
});
afterAll(async () => {
  redis.disconnect();
  await server.destroy();
});
beforeEach(() => {
  prefix = `test-${Date.now()}-${Math.random()}`;
});

describe('the per-user refresh lock', () => {
  test('only one holder at a time, across two instances (two connections)', async () => {
    const other = new Redis(server.url);
    await waitForRedis(other, 20_000);
    try {
      const a = new RefreshLock(redis, prefix, 1000);
      const b = new RefreshLock(other, prefix, 1000);

      const first = await a.acquire(caller, 60_000);
      const second = await b.acquire(caller, 60_000);
      await a.release(caller, first!);
      const third = await b.acquire(caller, 60_000);

      expect(first).toBeDefined();
      expect(second).toBeUndefined();
      expect(third).toBeDefined();
    } finally {
      other.disconnect();
    }
  });

  test('a holder whose lock expired and was taken by another does not release the other one\'s lock', async () => {
    const lock = new RefreshLock(redis, prefix, 1000);
    const stale = await lock.acquire(caller, 60_000);
    await redis.del(`${prefix}:oauth:refresh-lock:${caller.accountId}:${caller.userId}`); // as if its TTL ran out
    const current = await lock.acquire(caller, 60_000);

    await lock.release(caller, stale!);

    expect(await lock.acquire(caller, 60_000)).toBeUndefined();
    await lock.release(caller, current!);
    expect(await lock.acquire(caller, 60_000)).toBeDefined();
  });

  test('a request that comes while another one renews uses the token it stored, without refreshing again', async () => {
    const stored = { access: 'refused', refresh: 'rt-1' };
    const refreshedWith: string[] = [];
    let refreshStarted!: () => void;
    const started = new Promise<void>((resolve) => (refreshStarted = resolve));
    let finishRefresh!: () => void;
    const finished = new Promise<void>((resolve) => (finishRefresh = resolve));
    const deps = {
      secretStore: {
        findAccessToken: async () => stored.access,
        findRefreshToken: async () => stored.refresh,
        storeTokens: async (_caller: unknown, tokens: { accessToken: string; refreshToken?: string }) => {
          stored.access = tokens.accessToken;
          stored.refresh = tokens.refreshToken ?? stored.refresh;
        },
      },
      oauth: {
        refresh: async (refreshToken: string) => {
          refreshedWith.push(refreshToken);
          refreshStarted();
          await finished;
          return { accessToken: 'fresh', refreshToken: 'rt-2' };
        },
      },
      lockTtlMs: 30_000,
    };
    const one = new TokenRefresher({ ...deps, lock: new RefreshLock(redis, prefix, 1000) });
    const two = new TokenRefresher({ ...deps, lock: new RefreshLock(redis, prefix, 1000) });

    const first = one.renew(caller, 'refused');
    await started;
    const second = two.renew(caller, 'refused');
    finishRefresh();

    expect(await Promise.all([first, second])).toEqual(['fresh', 'fresh']);
    expect(refreshedWith).toEqual(['rt-1']);
    expect(stored.refresh).toBe('rt-2');
  });
});
