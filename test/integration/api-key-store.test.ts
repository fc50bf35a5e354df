import { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import { ApiKeyStore } from '../../src/api-keys/api-key-store';
import { startRedis, type TestRedis } from '../support/redis';

let redis: TestRedis;
let client: Redis;

beforeAll(async () => {
  redis = await startRedis({ appendOnly: false });
  client = new Redis(redis.url);
});
afterAll(async () => {
  client.disconnect();
  await redis.destroy();
});

async function hsetCalls(): Promise<number> {
  const stats = await client.info('commandstats');
  return Number(/cmdstat_hset:calls=(\d+)/.exec(stats)?.[1] ?? 0);
}

describe('ApiKeyStore', () => {
  test('a burst of requests with one key costs at most one lastUsedAt write per minute', async () => {
    let now = Date.parse('2026-01-01T00:00:00Z');
    const store = new ApiKeyStore(client, { prefix: `test-${randomUUID()}`, now: () => now });
    const { token, key } = await store.create({ name: 'busy client' });
    const before = await hsetCalls();
    for (let i = 0; i < 100; i++) expect((await store.verify(token)).ok).toBe(true);
    expect((await hsetCalls()) - before).toBe(1);
    expect((await store.get(key.id))?.lastUsedAt).toBe('2026-01-01T00:00:00.000Z');

    now += 30_000;
    await store.verify(token);
    expect((await store.get(key.id))?.lastUsedAt).toBe('2026-01-01T00:00:00.000Z');
    now += 31_000;
    await store.verify(token);
    const deadline = Date.now() + 5000;
    while ((await store.get(key.id))?.lastUsedAt !== '2026-01-01T00:01:01.000Z' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect((await store.get(key.id))?.lastUsedAt).toBe('2026-01-01T00:01:01.000Z');
  });

  test('a second instance that sees a fresh lastUsedAt does not write it again', async () => {
    const prefix = `test-${randomUUID()}`;
    const first = new ApiKeyStore(client, { prefix });
    const { token, key } = await first.create({ name: 'shared' });
    await first.verify(token);
    const deadline = Date.now() + 5000;
    while (!(await first.get(key.id))?.lastUsedAt && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    const before = await hsetCalls();
    const second = new ApiKeyStore(client, { prefix });
    for (let i = 0; i < 10; i++) await second.verify(token);
    expect((await hsetCalls()) - before).toBe(0);
  });

  test('verify tells malformed, unknown and revoked keys apart, and checks the secret before the revocation', async () => {
    const store = new ApiKeyStore(client, { prefix: `test-${randomUUID()}` });
    const { token, key } = await store.create({ name: 'to revoke', scopes: ['jobs:read'] });
    expect(key.scopes).toEqual(['jobs:read']);
    expect(await store.verify('hl_nope')).toEqual({ ok: false, reason: 'malformed' });
    expect(await store.verify(`hl_${key.id}_${'f'.repeat(64)}`)).toEqual({ ok: false, reason: 'unknown' });
    expect(await store.verify(`hl_${'0'.repeat(16)}_${'f'.repeat(64)}`)).toEqual({ ok: false, reason: 'unknown' });
    const revoked = await store.revoke(key.id);
    expect(revoked?.revokedAt).not.toBeNull();
    expect(await store.verify(token)).toEqual({ ok: false, reason: 'revoked' });
    // Someone who knows only the id cannot learn that it was revoked.
    expect(await store.verify(`hl_${key.id}_${'f'.repeat(64)}`)).toEqual({ ok: false, reason: 'unknown' });
    // Revoking again keeps the first revocation time.
    expect((await store.revoke(key.id))?.revokedAt).toBe(revoked?.revokedAt);
    expect(await store.revoke('0123456789abcdef')).toBeUndefined();
  });
});
