import { randomUUID } from 'node:crypto';
import { UnrecoverableError } from 'bullmq';
import { Redis } from 'ioredis';
import pino from 'pino';
import { buildStripeEvent } from '../../../src/dev/stripe-event-builder';
import { EventIndex } from '../../../src/events/event-index';
import { summariseEvent } from '../../../src/events/event-record';
import { STRIPE_EVENT_HANDLERS } from '../../../src/worker/handlers';
import { defineHandler, HandlerRegistry, type HandlerServices } from '../../../src/worker/handlers/handler-registry';
import { runStripeEvent, type StripeEventJob } from '../../../src/worker/processors/stripe-event';
import { startRedis, type TestRedis } from '../../support/redis';

interface FakeJob extends StripeEventJob {
  logs: string[];
  progress: unknown[];
}

function jobFor(data: unknown, attemptsMade = 0, attempts = 3): FakeJob {
  const logs: string[] = [];
  const progress: unknown[] = [];
  return {
    id: (data as { id?: string }).id,
    name: (data as { type?: string }).type ?? 'x',
    data,
    attemptsMade,
    opts: { attempts },
    logs,
    progress,
    log: async (line: string) => logs.push(line),
    updateProgress: async (value: unknown) => {
      progress.push(value);
    },
  };
}

describe('the stripe-events processor and its handlers', () => {
  let server: TestRedis;
  let redis: Redis;
  let index: EventIndex;
  const deleted: string[] = [];
  const services: HandlerServices = {
    deleteAccountSecrets: async (accountId) => {
      deleted.push(accountId);
      return 2;
    },
  };
  const runtime = (handlers = STRIPE_EVENT_HANDLERS) => ({ index, handlers, services, logger: pino({ level: 'silent' }) });
  const indexed = async (type: string, options: { account?: string } = {}) => {
    const event = buildStripeEvent(type, options);
    await index.record(summariseEvent(event), JSON.stringify(event));
    return event;
  };

  beforeAll(async () => {
    server = await startRedis({ appendOnly: false });
    redis = new Redis(server.url);
  });
  beforeEach(() => {
    index = new EventIndex(redis, { QUEUE_PREFIX: `test-${randomUUID()}`, EVENT_INDEX_RETENTION_DAYS: 30, EVENT_INDEX_MAX_EVENTS: 1000 });
    deleted.length = 0;
  });
  afterAll(async () => {
    redis.disconnect();
    await server.destroy();
  });

  it('payment_intent.succeeded: returns what was received and marks the event succeeded', async () => {
    const event = await indexed('payment_intent.succeeded');
    const job = jobFor(event);
    const result = await runStripeEvent(job, runtime());
    expect(result).toMatchObject({
      status: 'succeeded',
      result: { paymentIntent: 'pi_1PgafyB7WZ01zgkWSjxsAJo3', amountReceived: 0, currency: 'usd' },
    });
    expect(await index.get(event.id)).toMatchObject({ status: 'succeeded', attempts: 1, lastError: null });
    expect(job.progress).toContain(100);
    expect(job.logs.join('\n')).toContain('payment pi_1PgafyB7WZ01zgkWSjxsAJo3 received 0 usd');
  });

  it('customer.created: returns the customer', async () => {
    const event = await indexed('customer.created');
    expect(await runStripeEvent(jobFor(event), runtime())).toMatchObject({ result: { customer: 'cus_QXg1o8vcGmoR32' } });
  });

  it("account.application.deauthorized: deletes the account's stored tokens", async () => {
    const event = await indexed('account.application.deauthorized', { account: 'acct_1Gone' });
    const result = await runStripeEvent(jobFor(event), runtime());
    expect(deleted).toEqual(['acct_1Gone']);
    expect(result).toMatchObject({ result: { account: 'acct_1Gone', usersWithTokensDeleted: 2 } });
  });

  it('account.application.deauthorized without an account fails at once (UnrecoverableError) and is marked failed', async () => {
    const event = await indexed('account.application.deauthorized');
    await expect(runStripeEvent(jobFor(event, 0, 5), runtime())).rejects.toBeInstanceOf(UnrecoverableError);
    expect(deleted).toEqual([]);
    expect(await index.get(event.id)).toMatchObject({ status: 'failed', lastError: expect.stringContaining('account') });
  });

  it('a type without a handler completes as ignored', async () => {
    const event = await indexed('plan.created');
    const result = await runStripeEvent(jobFor(event), runtime());
    expect(result).toMatchObject({ status: 'ignored' });
    expect(await index.get(event.id)).toMatchObject({ status: 'ignored' });
  });

  it('malformed data fails at once with UnrecoverableError', async () => {
    const event = await indexed('payment_intent.succeeded');
    (event.data.object as { amount_received: unknown }).amount_received = 'lots';
    await expect(runStripeEvent(jobFor(event), runtime())).rejects.toBeInstanceOf(UnrecoverableError);
    await expect(runStripeEvent(jobFor({ nope: true }), runtime())).rejects.toBeInstanceOf(UnrecoverableError);
  });

  it('a transient error rethrows so BullMQ retries; the event waits as queued until the last attempt fails it', async () => {
    let calls = 0;
    const flaky = new HandlerRegistry([
      defineHandler('customer.created', async () => {
        calls += 1;
        throw new Error('provider timed out');
      }),
    ]);
    const event = await indexed('customer.created');
    await expect(runStripeEvent(jobFor(event, 0, 2), runtime(flaky))).rejects.toThrow('provider timed out');
    expect(await index.get(event.id)).toMatchObject({ status: 'queued', attempts: 1, lastError: 'provider timed out' });
    await expect(runStripeEvent(jobFor(event, 1, 2), runtime(flaky))).rejects.toThrow('provider timed out');
    expect(await index.get(event.id)).toMatchObject({ status: 'failed', attempts: 2 });
    expect(calls).toBe(2);
  });

  it('refuses two handlers for one type', () => {
    const handler = defineHandler('customer.created', async () => ({}));
    expect(() => new HandlerRegistry([handler, handler])).toThrow('two handlers for customer.created');
  });
});
