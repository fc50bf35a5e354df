import { Redis } from 'ioredis';
import { startTestApp, type TestApp } from '../support/app';
import { startRedis, type TestRedis } from '../support/redis';
import { deliver, fixtureEvent, WEBHOOK_SECRET } from './webhooks-support';

/** Polls `check` until it holds, for at most 10 s. */
async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const field = (info: string, name: string) => new RegExp(`^${name}:(.*)$`, 'm').exec(info)?.[1]?.trim() ?? '';

/**
 * ElastiCache Multi-AZ replicates asynchronously. A primary and a real replica on loopback; the replica is
 * frozen with SIGSTOP (what a slow or partitioned replica looks like to the primary) while a webhook arrives.
 */
describe('webhook intake with a replica (INTAKE_MIN_REPLICAS)', () => {
  let primary: TestRedis;
  let replica: TestRedis;
  let primaryClient: Redis;
  let replicaClient: Redis;
  let replicaPid: number;
  let app: TestApp | undefined;

  /** The replica's acknowledged offset, as the primary sees it, and the primary's own. */
  const offsets = async () => {
    const info = await primaryClient.info('replication');
    return { primary: Number(field(info, 'master_repl_offset')), replica: Number(/offset=(\d+)/.exec(field(info, 'slave0'))?.[1] ?? -1) };
  };
  const replicaHas = async (eventId: string) => {
    const entries = (await replicaClient.xrange(`${app!.deps.config.QUEUE_PREFIX}:{event-index}:intake`, '-', '+')) as [string, string[]][];
    return entries.some(([, fields]) => fields[1] === eventId);
  };
  const freezeReplica = () => process.kill(replicaPid, 'SIGSTOP');
  const thawReplica = () => process.kill(replicaPid, 'SIGCONT');

  beforeAll(async () => {
    primary = await startRedis({ appendOnly: false });
    replica = await startRedis({ appendOnly: false, extraArgs: ['--replicaof', '127.0.0.1', String(primary.port)] });
    primaryClient = new Redis(primary.url);
    replicaClient = new Redis(replica.url);
    replicaPid = Number(field(await replicaClient.info('server'), 'process_id'));
    await until('the replica to sync', async () => field(await replicaClient.info('replication'), 'master_link_status') === 'up');
  });
  afterEach(async () => {
    thawReplica();
    await app?.close();
    app = undefined;
  });
  afterAll(async () => {
    primaryClient.disconnect();
    replicaClient.disconnect();
    await replica.destroy();
    await primary.destroy();
  });

  it('with INTAKE_MIN_REPLICAS=0 (the local default) a 200 does not wait for the replica: a frozen replica lacks the acknowledged event, and a failover then would lose it', async () => {
    app = await startTestApp(primary.url, { STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET });
    const { event, payload } = fixtureEvent('customer.created');
    await primaryClient.config('RESETSTAT');
    freezeReplica();
    const res = await deliver(app.url, payload);
    expect(res.status).toBe(200);
    // The fast path sends no WAIT at all when no replica is required.
    expect(await primaryClient.info('commandstats')).not.toContain('cmdstat_wait:');
    const { primary: written, replica: acknowledged } = await offsets();
    expect(acknowledged).toBeLessThan(written);
    thawReplica();
    await until('the replica to catch up', () => replicaHas(event.id));
  });

  it('replica lost before the 200: with INTAKE_MIN_REPLICAS=1 and the replica frozen, answers 503 + Retry-After instead of 200; once it is back, the retry answers 200 and the replica has the event', async () => {
    app = await startTestApp(primary.url, { STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET, INTAKE_MIN_REPLICAS: '1', INTAKE_REPLICA_TIMEOUT_MS: '100' });
    const { event, payload } = fixtureEvent('payment_intent.succeeded');
    freezeReplica();
    const refused = await deliver(app.url, payload);
    expect(refused.status).toBe(503);
    expect(refused.body.code).toBe('INTAKE_NOT_REPLICATED');
    expect(refused.headers.get('retry-after')).toBeTruthy();
    thawReplica();
    // Stripe retries: the event was in the primary's log all along, so it is a duplicate now, stored and replicated.
    // A replica thawed on a loaded machine may take longer than the 100 ms to acknowledge: Stripe retries again
    // (here within 20 s), and every answer until then is the same 503.
    const deadline = Date.now() + 20_000;
    let retried = await deliver(app.url, payload);
    while (retried.status === 503 && retried.body.code === 'INTAKE_NOT_REPLICATED' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      retried = await deliver(app.url, payload);
    }
    expect(retried.status).toBe(200);
    expect(retried.body).toEqual({ received: true, duplicate: true });
    expect(await replicaHas(event.id)).toBe(true);
    expect(await app.moveIntake()).toBe(1);
  });

  it('with INTAKE_MIN_REPLICAS=1 and the replica up, every 200 means the replica has the event, also for deliveries answered together', async () => {
    // Generous timeouts: a replica on a loaded machine must not turn this into a 503.
    app = await startTestApp(primary.url, { STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET, INTAKE_MIN_REPLICAS: '1', INTAKE_REPLICA_TIMEOUT_MS: '4000', ENQUEUE_TIMEOUT_MS: '5000' });
    const events = Array.from({ length: 20 }, () => fixtureEvent('customer.created'));
    const answers = await Promise.all(events.map(({ payload }) => deliver(app!.url, payload)));
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
    for (const { event } of events) expect(await replicaHas(event.id)).toBe(true);
  });
});
