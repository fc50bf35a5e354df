import { Redis } from 'ioredis';
import { startStripeEmulator, type StripeEmulator } from '../../src/dev/stripe-emulator';
import { SecretStore } from '../../src/stripe/secret-store';
import { createSecretStore } from '../../src/stripe/stripe-app-services';
import { createStripeClient } from '../../src/stripe/stripe-client';
import { AppError } from '../../src/errors';
import { waitForRedis } from '../../src/redis';
import { startRedis, type TestRedis } from '../support/redis';

const KEY = 'sk_test_secretstore0001';
let redisServer: TestRedis;
let redis: Redis;
let emulator: StripeEmulator;
let store: SecretStore;

beforeAll(async () => {
  redisServer = await startRedis({ appendOnly: false });
});
afterAll(async () => {
  await redisServer.destroy();
});
beforeEach(async () => {
  emulator = await startStripeEmulator({ secretKey: KEY });
  redis = new Redis(redisServer.url);
  await waitForRedis(redis, 20_000);
  store = createSecretStore(
    { STRIPE_SECRET_KEY: KEY, STRIPE_API_BASE: emulator.url, STRIPE_API_TIMEOUT_MS: 5000, QUEUE_PREFIX: `test-${Date.now()}-${Math.random()}` },
    redis,
  )!;
});
afterEach(async () => {
  await emulator.stop();
  await redis.quit();
});

describe('SecretStore', () => {
  test('stores a user\'s tokens in their own scope and finds the access token', async () => {
    const caller = { userId: 'usr_1', accountId: 'acct_1' };

    await store.storeTokens(caller, { accessToken: 'at', refreshToken: 'rt' });

    expect(await store.findAccessToken(caller)).toBe('at');
    expect(await store.findRefreshToken(caller)).toBe('rt');
    expect(await store.findAccessToken({ userId: 'usr_2', accountId: 'acct_1' })).toBeUndefined();
  });

  test('deleting a user\'s secrets twice is not an error', async () => {
    const caller = { userId: 'usr_1', accountId: 'acct_1' };
    await store.storeTokens(caller, { accessToken: 'at' });

    await store.deleteUserSecrets(caller);
    await store.deleteUserSecrets(caller);

    expect(await store.findAccessToken(caller)).toBeUndefined();
  });

  test('deleteAccountSecrets removes the tokens of every user of that account and no other', async () => {
    await store.storeTokens({ userId: 'usr_1', accountId: 'acct_gone' }, { accessToken: 'a1', refreshToken: 'r1' });
    await store.storeTokens({ userId: 'usr_2', accountId: 'acct_gone' }, { accessToken: 'a2' });
    await store.storeTokens({ userId: 'usr_3', accountId: 'acct_stays' }, { accessToken: 'a3' });

    const result = await store.deleteAccountSecrets('acct_gone');

    expect(result).toEqual({ users: 2, accountGone: false });
    expect(emulator.secrets.all('acct_gone')).toEqual([]);
    expect(emulator.secrets.all('acct_stays').map((s) => s.name)).toEqual(['access_token']);
    expect(await store.deleteAccountSecrets('acct_gone')).toEqual({ users: 0, accountGone: false });
  });

  test('deauthorization cleanup of an account that uninstalled the app (Stripe answers 403 account_invalid) is done, not retried for ever', async () => {
    await store.storeTokens({ userId: 'usr_1', accountId: 'acct_uninstalled' }, { accessToken: 'a1', refreshToken: 'r1' });
    await store.storeTokens({ userId: 'usr_2', accountId: 'acct_uninstalled' }, { accessToken: 'a2' });
    emulator.revokeAccess('acct_uninstalled');

    const result = await store.deleteAccountSecrets('acct_uninstalled');

    expect(result).toEqual({ users: 2, accountGone: true });
    // Nothing is left to retry: the account's user index went with it.
    expect(await store.deleteAccountSecrets('acct_uninstalled')).toEqual({ users: 0, accountGone: false });
  });

  test('a real failure during deauthorization cleanup (the key is refused) still fails and keeps the users for the retry', async () => {
    const prefix = `test-refused-${Date.now()}`;
    const good = createSecretStore({ STRIPE_SECRET_KEY: KEY, STRIPE_API_BASE: emulator.url, STRIPE_API_TIMEOUT_MS: 5000, QUEUE_PREFIX: prefix }, redis)!;
    const refused = createSecretStore(
      { STRIPE_SECRET_KEY: 'sk_test_rotatedaway', STRIPE_API_BASE: emulator.url, STRIPE_API_TIMEOUT_MS: 5000, QUEUE_PREFIX: prefix },
      redis,
    )!;
    await good.storeTokens({ userId: 'usr_1', accountId: 'acct_leaving' }, { accessToken: 'a1' });

    const err = await refused.deleteAccountSecrets('acct_leaving').catch((e: unknown) => e);

    expect(err).toMatchObject({ code: 'SECRET_STORE_UNAVAILABLE', status: 502 });
    expect(await good.deleteAccountSecrets('acct_leaving')).toEqual({ users: 1, accountGone: false });
    expect(emulator.secrets.all('acct_leaving')).toEqual([]);
  });

  test('when Stripe refuses the key, the caller gets SECRET_STORE_UNAVAILABLE (502)', async () => {
    const wrong = new SecretStore({
      stripe: createStripeClient({ STRIPE_SECRET_KEY: 'sk_test_wrong', STRIPE_API_BASE: emulator.url, STRIPE_API_TIMEOUT_MS: 5000 }),
      redis,
      keyPrefix: 'test-wrong',
      redisDeadlineMs: 1000,
    });

    const err = await wrong.findAccessToken({ userId: 'usr_1', accountId: 'acct_1' }).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(AppError);
    expect(err).toMatchObject({ code: 'SECRET_STORE_UNAVAILABLE', status: 502 });
  });
});
