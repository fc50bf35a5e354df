import { randomBytes, randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { AppError } from '../../../src/errors';
import { EventIndex, type EventQuery } from '../../../src/events/event-index';
import { INLINE_PAYLOAD_MAX } from '../../../src/events/event-index-scripts';
import { encodePayload } from '../../../src/events/payload-codec';
import type { EventSummary } from '../../../src/events/event-record';
import { startRedis, type TestRedis } from '../../support/redis';

const DAY = 86_400_000;

function summary(id: string, overrides: Partial<EventSummary> = {}): EventSummary {
  return { id, type: 'customer.created', account: null, objectId: `cus_${id}`, created: 1_700_000_000, ...overrides };
}

describe('EventIndex', () => {
  let server: TestRedis;
  let redis: Redis;
  let index: EventIndex;
  const config = (overrides: Partial<ConstructorParameters<typeof EventIndex>[1]> = {}) => ({
    QUEUE_PREFIX: `test-${randomUUID()}`,
    EVENT_INDEX_RETENTION_DAYS: 30,
    EVENT_INDEX_MAX_EVENTS: 1000,
    // Most of these tests are about compact records (what the next release writes by default); one is about both.
    EVENT_RECORDS_COMPACT: true,
    ...overrides,
  });
  const all = async (query: Omit<EventQuery, 'limit' | 'cursor'>, limit = 2) => {
    const ids: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 100; page += 1) {
      const result = await index.list({ ...query, limit, ...(cursor ? { cursor } : {}) });
      ids.push(...result.events.map((e) => e.id));
      if (!result.nextCursor) return ids;
      cursor = result.nextCursor;
    }
    throw new Error('paging did not end');
  };

  beforeAll(async () => {
    server = await startRedis({ appendOnly: false });
    redis = new Redis(server.url);
  });
  beforeEach(() => {
    index = new EventIndex(redis, config());
  });
  afterAll(async () => {
    redis.disconnect();
    await server.destroy();
  });

  it('creates a record once: the first call wins, later calls report it existed', async () => {
    expect(await index.record(summary('evt_a'), '{"id":"evt_a"}')).toBe(true);
    expect(await index.record(summary('evt_a'), '{"id":"evt_a"}')).toBe(false);
    expect(await index.get('evt_b')).toBeUndefined();
    expect(await index.get('evt_a')).toMatchObject({ id: 'evt_a', status: 'queued', attempts: 0, replays: 0, objectId: 'cus_evt_a' });
    expect(await index.payload('evt_a')).toBe('{"id":"evt_a"}');
  });

  it('a record stores neither its id nor its index member (its key and receivedAt say both); a failure still enters the failed index', async () => {
    const receivedAt = Date.now() - 1000;
    await index.record(summary('evt_lean'), '{}', receivedAt);
    const fields = await redis.hgetall(`${index['base']}:rec:evt_lean`);
    expect(Object.keys(fields)).not.toEqual(expect.arrayContaining(['id']));
    expect(Object.keys(fields)).not.toEqual(expect.arrayContaining(['member']));

    await index.setStatus('evt_lean', 'failed', { attempts: 5, lastError: 'boom' });

    expect(await redis.zrange(`${index['base']}:idx:status:failed`, 0, -1)).toEqual([`${receivedAt}:evt_lean`]);
    expect(await all({ status: 'failed' })).toEqual(['evt_lean']);
    expect(await index.get('evt_lean')).toMatchObject({ id: 'evt_lean', jobId: 'evt_lean', status: 'failed' });
  });

  it('a record written by an earlier version (id and member stored in it) reads, lists and fails as before', async () => {
    const base = index['base'];
    const receivedAt = Date.now() - 2000;
    const member = `${receivedAt}:evt_old`;
    await redis.hset(`${base}:rec:evt_old`, {
      id: 'evt_old', type: 'customer.created', account: '', objectId: 'cus_old', created: '1700000000',
      receivedAt: String(receivedAt), member, status: 'queued', attempts: '0',
    });
    await redis.zadd(`${base}:idx:all`, 0, member);

    await index.setStatus('evt_old', 'failed', { attempts: 1, lastError: 'boom' });

    expect(await index.get('evt_old')).toMatchObject({ id: 'evt_old', type: 'customer.created', objectId: 'cus_old', status: 'failed' });
    expect(await all({})).toEqual(['evt_old']);
    expect(await redis.zrange(`${base}:idx:status:failed`, 0, -1)).toEqual([member]);
  });

  it('lists newest first, pages with a cursor without gaps or repeats, also within one millisecond', async () => {
    const now = Date.now();
    for (let i = 0; i < 7; i += 1) await index.record(summary(`evt_${i}`), '{}', now + (i < 4 ? 0 : i));
    const ids = await all({});
    expect(ids).toEqual(['evt_6', 'evt_5', 'evt_4', 'evt_3', 'evt_2', 'evt_1', 'evt_0']);
  });

  it('filters by type, account, object id and status, alone and combined', async () => {
    const now = Date.now();
    await index.record(summary('evt_1', { type: 'payment_intent.succeeded', account: 'acct_A', objectId: 'pi_1' }), '{}', now);
    await index.record(summary('evt_2', { type: 'payment_intent.created', account: 'acct_A', objectId: 'pi_1' }), '{}', now + 1);
    await index.record(summary('evt_3', { type: 'payment_intent.succeeded', account: 'acct_B', objectId: 'pi_2' }), '{}', now + 2);
    await index.setStatus('evt_3', 'succeeded');
    expect(await all({ type: 'payment_intent.succeeded' })).toEqual(['evt_3', 'evt_1']);
    expect(await all({ account: 'acct_A' })).toEqual(['evt_2', 'evt_1']);
    expect(await all({ objectId: 'pi_1' })).toEqual(['evt_2', 'evt_1']);
    expect(await all({ status: 'succeeded' })).toEqual(['evt_3']);
    expect(await all({ status: 'queued' })).toEqual(['evt_2', 'evt_1']);
    expect(await all({ account: 'acct_A', type: 'payment_intent.succeeded' })).toEqual(['evt_1']);
    expect(await all({ objectId: 'pi_2', status: 'queued' })).toEqual([]);
  });

  it('moves a record between status indexes and keeps attempts and the last error', async () => {
    await index.record(summary('evt_s'), '{}');
    await index.setStatus('evt_s', 'processing', { attempts: 1 });
    expect(await index.get('evt_s')).toMatchObject({ status: 'processing', attempts: 1, lastError: null });
    await index.setStatus('evt_s', 'queued', { lastError: 'boom' });
    expect(await index.get('evt_s')).toMatchObject({ status: 'queued', attempts: 1, lastError: 'boom' });
    await index.setStatus('evt_s', 'failed', { attempts: 2, lastError: 'boom again' });
    expect(await index.get('evt_s')).toMatchObject({ status: 'failed', attempts: 2, lastError: 'boom again' });
    expect(await all({ status: 'failed' })).toEqual(['evt_s']);
    expect(await all({ status: 'queued' })).toEqual([]);
    expect(await all({ status: 'processing' })).toEqual([]);
  });

  it('applies a batch in one call; a record that leaves failed is dropped from the failed index by the next failed listing', async () => {
    const now = Date.now();
    await index.record(summary('evt_x'), '{}', now);
    await index.record(summary('evt_y'), '{}', now + 1);
    await index.record(summary('evt_z'), '{}', now + 2);
    await index.setStatuses([
      { id: 'evt_x', status: 'failed', fields: { attempts: 1, lastError: 'boom' } },
      { id: 'evt_y', status: 'succeeded', fields: { attempts: 1, lastError: null, jobId: 'evt_y' } },
      { id: 'evt_z', status: 'failed', fields: { attempts: 3, lastError: 'bang' } },
      { id: 'evt_none', status: 'ignored', fields: { attempts: 1 } },
    ]);
    expect(await index.get('evt_y')).toMatchObject({ status: 'succeeded', attempts: 1, jobId: 'evt_y', lastError: null });
    expect(await all({ status: 'failed' })).toEqual(['evt_z', 'evt_x']);
    // A record the worker wrote before the intake's expires with the retention rather than living for ever.
    expect(await redis.ttl(`${index['base']}:rec:evt_none`)).toBeGreaterThan(0);
    // A retry takes evt_x out of failed: listings leave it out at once, and the first one drops its entry.
    await index.setStatus('evt_x', 'succeeded', { attempts: 2, lastError: null });
    expect(await index.get('evt_x')).toMatchObject({ status: 'succeeded', attempts: 2, lastError: null });
    const failedKey = `${index['base']}:idx:status:failed`;
    expect(await redis.zcard(failedKey)).toBe(2);
    expect(await all({ status: 'failed' })).toEqual(['evt_z']);
    expect(await redis.zcard(failedKey)).toBe(1);
    // A listing that saw evt_z processing repairs after it failed again: the repair checks, and keeps the entry.
    await index.setStatus('evt_z', 'failed', { attempts: 4, lastError: 'bang' });
    await index['repairStatusIndex']('failed', [`${String(now + 2).padStart(13, '0')}:evt_z`]);
    expect(await all({ status: 'failed' })).toEqual(['evt_z']);
  });

  it('when the worker writes a status before the record exists, the record keeps that status and is not a duplicate', async () => {
    await index.setStatus('evt_fast', 'succeeded', { attempts: 1 });
    expect(await index.get('evt_fast')).toBeUndefined();
    expect(await index.record(summary('evt_fast'), '{}')).toBe(true);
    expect(await index.get('evt_fast')).toMatchObject({ status: 'succeeded', attempts: 1 });
    expect(await all({ status: 'succeeded' })).toEqual(['evt_fast']);
  });

  it('a payload that compresses to at most INLINE_PAYLOAD_MAX bytes is kept in its record; a longer one in a key of its own; both read back and leave by the byte budget', async () => {
    const small = JSON.stringify({ id: 'evt_small', object: 'event', data: { object: { id: 'cus_1' } } });
    // Random bytes do not compress: this one stays well above the listpack limit.
    const large = JSON.stringify({ id: 'evt_large', blob: randomBytes(INLINE_PAYLOAD_MAX).toString('base64') });
    index = new EventIndex(redis, config(), { payloadMaxBytes: 2 * INLINE_PAYLOAD_MAX });
    const base = index['base'];
    const now = Date.now();
    await index.record(summary('evt_small'), small, now);
    await index.record(summary('evt_large'), large, now + 1);

    expect(await redis.hexists(`${base}:rec:evt_small`, 'payload')).toBe(1);
    expect(await redis.exists(`${base}:payload:evt_small`)).toBe(0);
    expect(await redis.object('ENCODING', `${base}:rec:evt_small`)).toBe('listpack');
    expect(await redis.hexists(`${base}:rec:evt_large`, 'payload')).toBe(0);
    expect(await redis.exists(`${base}:payload:evt_large`)).toBe(1);
    expect(await redis.object('ENCODING', `${base}:rec:evt_large`)).toBe('listpack');
    expect([await index.payload('evt_small'), await index.payload('evt_large')]).toEqual([small, large]);
    expect(await index.get('evt_large')).toMatchObject({ payloadExpired: false });

    // A third payload over the budget: the two oldest go, each counted out, and their records say so.
    await index.record(summary('evt_next'), JSON.stringify({ id: 'evt_next', blob: randomBytes(INLINE_PAYLOAD_MAX).toString('base64') }), now + 2);

    expect(await index.payload('evt_small')).toBeUndefined();
    expect(await index.payload('evt_large')).toBeUndefined();
    expect(await redis.exists(`${base}:payload:evt_large`)).toBe(0);
    expect(await index.get('evt_small')).toMatchObject({ payloadExpired: true });
    expect(await index.get('evt_large')).toMatchObject({ payloadExpired: true });
    expect(Number(await redis.get(`${base}:payload-bytes`))).toBe(await redis.strlen(`${base}:payload:evt_next`));
  });

  it('with EVENT_RECORDS_COMPACT=false (the default while a version that reads only its own format may still run) the record keeps its id and member, and its payload its own key', async () => {
    index = new EventIndex(redis, config({ EVENT_RECORDS_COMPACT: false }));
    const base = index['base'];
    const receivedAt = Date.now() - 1000;
    await index.record(summary('evt_keyed'), '{"id":"evt_keyed"}', receivedAt);

    expect(await redis.hmget(`${base}:rec:evt_keyed`, 'id', 'member')).toEqual(['evt_keyed', `${receivedAt}:evt_keyed`]);
    expect(await redis.hexists(`${base}:rec:evt_keyed`, 'payload')).toBe(0);
    expect(await redis.exists(`${base}:payload:evt_keyed`)).toBe(1);
    expect(await index.payload('evt_keyed')).toBe('{"id":"evt_keyed"}');
  });

  it('a payload stored by an earlier version in a key of its own is read, and dropped and counted out by the count cap', async () => {
    index = new EventIndex(redis, config({ EVENT_INDEX_MAX_EVENTS: 1 }));
    const base = index['base'];
    const receivedAt = Date.now() - 1000;
    const body = '{"id":"evt_before"}';
    const encoded = encodePayload(body);
    await redis.hset(`${base}:rec:evt_before`, {
      id: 'evt_before', type: 'customer.created', receivedAt: String(receivedAt), member: `${receivedAt}:evt_before`, status: 'succeeded', attempts: '1',
    });
    await redis.set(`${base}:payload:evt_before`, encoded);
    await redis.set(`${base}:payload-bytes`, encoded.length);
    await redis.zadd(`${base}:idx:all`, 0, `${receivedAt}:evt_before`);

    expect(await index.payload('evt_before')).toBe(body);
    expect(await index.get('evt_before')).toMatchObject({ id: 'evt_before', status: 'succeeded', payloadExpired: false });

    await index.record(summary('evt_after'), '{"id":"evt_after"}');

    expect(await index.get('evt_before')).toBeUndefined();
    expect(await redis.exists(`${base}:payload:evt_before`)).toBe(0);
    expect(Number(await redis.get(`${base}:payload-bytes`))).toBe(await redis.hstrlen(`${base}:rec:evt_after`, 'payload'));
  });

  it('keeps at most EVENT_INDEX_MAX_EVENTS records, dropping the oldest with their payloads', async () => {
    index = new EventIndex(redis, config({ EVENT_INDEX_MAX_EVENTS: 100 }));
    const now = Date.now();
    for (let i = 0; i < 103; i += 1) await index.record(summary(`evt_${String(i).padStart(3, '0')}`), 'x', now + i);
    expect(await index.get('evt_000')).toBeUndefined();
    expect(await index.payload('evt_002')).toBeUndefined();
    expect(await index.get('evt_003')).toBeDefined();
    expect((await all({}, 200)).length).toBe(100);
    expect((await all({ type: 'customer.created' }, 200)).length).toBe(100);
  });

  it('when EVENT_INDEX_MAX_EVENTS is lowered (20,000 records, then a cap of 100), one write deletes at most 500 records (no long script blocking Redis), and writes converge to the cap', async () => {
    const base = config({ EVENT_INDEX_MAX_EVENTS: 50_000 });
    const large = new EventIndex(redis, base);
    const now = Date.now();
    const id = (i: number) => `evt_${String(i).padStart(5, '0')}`;
    for (let start = 0; start < 20_000; start += 1000) {
      await Promise.all(Array.from({ length: 1000 }, (_, k) => large.record(summary(id(start + k)), 'x', now + start + k)));
    }
    const all = `${base.QUEUE_PREFIX}:{event-index}:idx:all`;
    const byType = `${base.QUEUE_PREFIX}:{event-index}:idx:type:customer.created`;
    expect(await redis.zcard(all)).toBe(20_000);

    index = new EventIndex(redis, { ...base, EVENT_INDEX_MAX_EVENTS: 100 });
    await index.record(summary('evt_next0'), 'x', now + 20_000);
    const deleted = 20_001 - (await redis.zcard(all));
    expect(deleted).toBeGreaterThan(0);
    expect(deleted).toBeLessThanOrEqual(500);
    expect(20_001 - (await redis.zcard(byType))).toBeLessThanOrEqual(500);

    for (let i = 1; i <= 60; i += 1) await index.record(summary(`evt_next${i}`), 'x', now + 20_000 + i);
    expect(await redis.zcard(all)).toBe(100);
    expect(await redis.zcard(byType)).toBe(100);
    // The newest 100: the 61 new ones and the 39 newest of before.
    expect(await index.get(id(19_960))).toBeUndefined();
    expect(await index.payload(id(19_960))).toBeUndefined();
    expect(await index.get(id(19_961))).toBeDefined();
    expect(await index.get('evt_next60')).toBeDefined();
    expect(await redis.exists(`${base.QUEUE_PREFIX}:{event-index}:rec:${id(0)}`)).toBe(0);
  });

  it('drops index entries older than the retention when new events are written, and records expire with it', async () => {
    const now = Date.now();
    await index.record(summary('evt_old'), '{}', now - 31 * DAY);
    await index.record(summary('evt_new'), '{}', now);
    expect(await all({})).toEqual(['evt_new']);
    const prefix = (index as unknown as { base: string }).base;
    const ttl = await redis.ttl(`${prefix}:rec:evt_new`);
    expect(ttl).toBeGreaterThan(29 * 86_400);
    expect(ttl).toBeLessThanOrEqual(30 * 86_400);
    expect(await redis.ttl(`${prefix}:idx:type:customer.created`)).toBeGreaterThan(0);
  });

  it('when a cursor was not made by the index, refuses it with VALIDATION_FAILED', async () => {
    await expect(index.list({ limit: 10, cursor: 'bm9wZQ' })).rejects.toThrow(AppError);
  });

  it('counts replays', async () => {
    await index.record(summary('evt_r'), '{}');
    expect(await index.nextReplay('evt_r')).toBe(1);
    expect(await index.nextReplay('evt_r')).toBe(2);
    expect((await index.get('evt_r'))?.replays).toBe(2);
  });
});
