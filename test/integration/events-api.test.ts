import { intakeLogFor } from '../../src/events/intake-log';
import { QUEUE_NAMES } from '../../src/queues';
import { startTestApp, type TestApp } from '../support/app';
import { startRedis, type TestRedis } from '../support/redis';
import { deliver, fixtureEvent, WEBHOOK_SECRET } from './webhooks-support';

const TOKEN = 'events-api-admin-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };

interface Page {
  events: { id: string; type: string; account: string | null; objectId: string | null; status: string; jobId: string; replays: number }[];
  nextCursor: string | null;
}

describe('/api/events', () => {
  let redis: TestRedis;
  let app: TestApp;
  const get = async (path: string, headers: Record<string, string> = auth) => {
    const res = await fetch(`${app.url}${path}`, { headers });
    return { status: res.status, body: (await res.json()) as Record<string, unknown>, headers: res.headers };
  };
  const accept = async (type: string, account?: string) => {
    const { event, payload } = fixtureEvent(type, account ? { account } : {});
    expect((await deliver(app.url, payload)).status).toBe(200);
    // What a worker's mover does within milliseconds: the event enters the index and the queue.
    expect(await app.moveIntake()).toBe(1);
    return { event, payload };
  };

  beforeAll(async () => {
    redis = await startRedis({ appendOnly: false });
  });
  beforeEach(async () => {
    app = await startTestApp(redis.url, { STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET, ADMIN_TOKEN: TOKEN });
  });
  afterEach(async () => {
    await app.deps.queues[QUEUE_NAMES.stripeEvents].obliterate({ force: true }).catch(() => undefined);
    await app.close();
  });
  afterAll(async () => {
    await redis.destroy();
  });

  it('without the admin token answers 401 UNAUTHORIZED, with a wrong one too', async () => {
    expect((await get('/api/events', {})).status).toBe(401);
    const wrong = await get('/api/events', { authorization: 'Bearer wrong-token-wrong-token' });
    expect(wrong.status).toBe(401);
    expect(wrong.body.code).toBe('UNAUTHORIZED');
    expect(wrong.headers.get('www-authenticate')).toMatch(/^Bearer/);
  });

  it('lists accepted events newest first, filters them and pages with an opaque cursor', async () => {
    const first = await accept('payment_intent.created', 'acct_1A');
    const second = await accept('payment_intent.succeeded', 'acct_1A');
    const third = await accept('customer.created', 'acct_1B');

    const everything = await get('/api/events');
    expect(everything.status).toBe(200);
    expect((everything.body as unknown as Page).events.map((e) => e.id)).toEqual([third.event.id, second.event.id, first.event.id]);

    const byType = (await get('/api/events?type=payment_intent.succeeded')).body as unknown as Page;
    expect(byType.events.map((e) => e.id)).toEqual([second.event.id]);
    const byAccount = (await get('/api/events?account=acct_1A')).body as unknown as Page;
    expect(byAccount.events.map((e) => e.id)).toEqual([second.event.id, first.event.id]);
    const byObject = (await get('/api/events?objectId=pi_1PgafyB7WZ01zgkWSjxsAJo3&account=acct_1A')).body as unknown as Page;
    expect(byObject.events).toHaveLength(2);
    const byStatus = (await get('/api/events?status=queued&account=acct_1B')).body as unknown as Page;
    expect(byStatus.events.map((e) => e.id)).toEqual([third.event.id]);

    const page1 = (await get('/api/events?limit=2')).body as unknown as Page;
    expect(page1.events).toHaveLength(2);
    expect(page1.nextCursor).toEqual(expect.any(String));
    const page2 = (await get(`/api/events?limit=2&cursor=${page1.nextCursor}`)).body as unknown as Page;
    expect(page2.events.map((e) => e.id)).toEqual([first.event.id]);
    expect(page2.nextCursor).toBeNull();
  });

  it('refuses bad filters with 400 VALIDATION_FAILED', async () => {
    for (const query of ['status=done', 'limit=0', 'limit=1000', 'cursor=not-ours', 'account=acct:1']) {
      const res = await get(`/api/events?${query}`);
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('VALIDATION_FAILED');
    }
  });

  it('shows one event with its payload; an unknown id is 404 EVENT_NOT_FOUND', async () => {
    const { event } = await accept('charge.succeeded', 'acct_1C');
    const one = await get(`/api/events/${event.id}`);
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ id: event.id, type: 'charge.succeeded', account: 'acct_1C', status: 'queued', payloadExpired: false });
    expect(one.body.payload).toEqual(JSON.parse(JSON.stringify(event)));
    const missing = await get('/api/events/evt_unknown');
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toContain('application/problem+json');
    expect(missing.body.code).toBe('EVENT_NOT_FOUND');
  });

  it('an event no job can be made of (an all-digit id BullMQ refuses, appended as a web before the id check did) is dead-lettered: listed and shown with status dead-lettered and its error, and counted in the overview', async () => {
    const good = fixtureEvent('customer.created');
    const id = '12345';
    const poison = JSON.stringify({ ...fixtureEvent('customer.created').event, id });
    expect(await intakeLogFor(app.deps.redis, app.deps.config).append(id, poison)).toBe(true);
    expect((await deliver(app.url, good.payload)).status).toBe(200);
    expect(await app.moveIntake()).toBe(1);

    const listed = (await get('/api/events?status=dead-lettered')).body as unknown as Page & { events: { lastError: string }[] };
    expect(listed.events.map((e) => [e.id, e.status])).toEqual([[id, 'dead-lettered']]);
    expect(listed.events[0]?.lastError).toContain('Custom Id cannot be integers');
    const one = await get(`/api/events/${id}`);
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ id, status: 'dead-lettered', lastError: expect.stringContaining('Custom Id'), payloadExpired: false });
    expect(one.body.payload).toEqual(JSON.parse(poison));
    expect((await get(`/api/events/${good.event.id}`)).body).toMatchObject({ status: 'queued' });
    const overview = (await get('/api/admin/overview')).body as { intake: Record<string, number> };
    expect(overview.intake).toEqual({ waiting: 0, pending: 0, deadLettered: 1 });
  });

  it('an event whose body JSON.stringify cannot write is queued by reference and shown without its payload', async () => {
    const depth = 20_000;
    const id = 'evt_deeplynested1';
    const deep = `{"id":"${id}","type":"customer.created","data":{"object":{"id":"cus_deep","n":${'['.repeat(depth)}${']'.repeat(depth)}}}}`;
    expect((await deliver(app.url, deep)).status).toBe(200);
    expect(await app.moveIntake()).toBe(1);
    const one = await get(`/api/events/${id}`);
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ id, status: 'queued', payload: null });
  });

  it('replays an event as a new job (202), counting replays', async () => {
    const { event } = await accept('payment_intent.succeeded');
    const replay = async () => {
      const res = await fetch(`${app.url}/api/events/${event.id}/replay`, { method: 'POST', headers: auth });
      return { status: res.status, body: (await res.json()) as { eventId: string; jobId: string; replay: number } };
    };
    const first = await replay();
    expect(first.status).toBe(202);
    expect(first.body).toEqual({ eventId: event.id, jobId: `${event.id}-replay-1`, replay: 1 });
    expect((await replay()).body.jobId).toBe(`${event.id}-replay-2`);
    const queue = app.deps.queues[QUEUE_NAMES.stripeEvents];
    const job = await queue.getJob(`${event.id}-replay-2`);
    expect(job?.name).toBe('payment_intent.succeeded');
    // The replay refers to the stored payload, as the first job did.
    expect(job?.data).toEqual({ payloadOf: event.id });
    expect((await get(`/api/events/${event.id}`)).body).toMatchObject({ jobId: `${event.id}-replay-2`, replays: 2, status: 'queued' });
    const missing = await fetch(`${app.url}/api/events/evt_unknown/replay`, { method: 'POST', headers: auth });
    expect(missing.status).toBe(404);
  });

  it('records source replay once an event is replayed (webhook before)', async () => {
    const { event } = await accept('customer.created');
    expect((await get(`/api/events/${event.id}`)).body).toMatchObject({ source: 'webhook' });
    const res = await fetch(`${app.url}/api/events/${event.id}/replay`, { method: 'POST', headers: auth });
    expect(res.status).toBe(202);
    expect((await get(`/api/events/${event.id}`)).body).toMatchObject({ source: 'replay', replays: 1 });
    const listed = (await get('/api/events?type=customer.created')).body as unknown as { events: { id: string; source: string }[] };
    expect(listed.events.find((e) => e.id === event.id)?.source).toBe('replay');
  });
});
