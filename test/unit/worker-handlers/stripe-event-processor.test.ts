import { UnrecoverableError } from 'bullmq';
import pino from 'pino';
import { buildStripeEvent } from '../../../src/dev/stripe-event-builder';
import { STRIPE_EVENT_HANDLERS } from '../../../src/worker/handlers';
import { defineHandler, HandlerRegistry, type HandlerServices } from '../../../src/worker/handlers/handler-registry';
import { runStripeEvent, type StripeEventJob } from '../../../src/worker/processors/stripe-event';

interface FakeJob extends StripeEventJob {
  logs: string[];
  progress: unknown[];
}

function jobFor(data: unknown, attemptsMade = 0): FakeJob {
  const logs: string[] = [];
  const progress: unknown[] = [];
  return {
    id: (data as { id?: string }).id,
    name: (data as { type?: string }).type ?? 'x',
    data,
    attemptsMade,
    logs,
    progress,
    log: async (line: string) => logs.push(line),
    updateProgress: async (value: unknown) => {
      progress.push(value);
    },
  };
}

// The index status these jobs lead to is tested with a real worker in test/integration/event-status-recorder.test.ts.
describe('the stripe-events processor and its handlers', () => {
  const deleted: string[] = [];
  const services: HandlerServices = {
    deleteAccountSecrets: async (accountId) => {
      deleted.push(accountId);
      return { users: 2, accountGone: accountId === 'acct_1Uninstalled' };
    },
    recordHealthAlert: async () => undefined,
    stripe: {
      snapshotEvent: async () => {
        throw new Error('a snapshot event is never fetched');
      },
      thinEvent: async () => {
        throw new Error('a snapshot event is never fetched');
      },
      relatedObject: async () => null,
    },
  };
  const runtime = (handlers = STRIPE_EVENT_HANDLERS) => ({ handlers, services, logger: pino({ level: 'silent' }) });
  const eventOf = async (type: string, options: { account?: string } = {}) => buildStripeEvent(type, options);

  beforeEach(() => {
    deleted.length = 0;
  });

  it('a job that refers to a stored payload reads it once and runs its handler with it', async () => {
    const event = await eventOf('customer.created');
    const reads: string[] = [];
    const rt = { ...runtime(), loadPayload: async (id: string) => (reads.push(id), JSON.stringify(event)) };
    const result = await runStripeEvent({ ...jobFor({ payloadOf: event.id }), id: event.id, name: event.type }, rt);
    expect(result).toMatchObject({ status: 'succeeded', result: { customer: (event.data.object as { id: string }).id } });
    expect(reads).toEqual([event.id]);
  });

  it('a job of a type nobody handles completes as ignored without reading its payload', async () => {
    const reads: string[] = [];
    const rt = { ...runtime(), loadPayload: async (id: string) => (reads.push(id), undefined) };
    expect(await runStripeEvent({ ...jobFor({ payloadOf: 'evt_plan' }), id: 'evt_plan', name: 'plan.created' }, rt)).toEqual({ status: 'ignored' });
    expect(reads).toEqual([]);
  });

  it('a job whose payload expired before it ran fails at once (unrecoverable), saying PAYLOAD_EXPIRED; it never succeeds unrun', async () => {
    const rt = { ...runtime(), loadPayload: async () => undefined };
    const run = runStripeEvent({ ...jobFor({ payloadOf: 'evt_gone' }), id: 'evt_gone', name: 'customer.created' }, rt);
    await expect(run).rejects.toBeInstanceOf(UnrecoverableError);
    await expect(run).rejects.toThrow(/PAYLOAD_EXPIRED: the payload of evt_gone is no longer stored/);
  });

  it('payment_intent.succeeded: returns what was received and logs the payment in its job (STRIPE_EVENT_JOB_LOGS=true)', async () => {
    const event = await eventOf('payment_intent.succeeded');
    const job = jobFor(event);
    const result = await runStripeEvent(job, { ...runtime(), jobLogs: true });
    expect(result).toMatchObject({
      status: 'succeeded',
      result: { paymentIntent: 'pi_1PgafyB7WZ01zgkWSjxsAJo3', amountReceived: 0, currency: 'usd' },
    });
    expect(job.logs.join('\n')).toContain('payment pi_1PgafyB7WZ01zgkWSjxsAJo3 received 0 usd');
  });

  it("by default a handler's ctx.log line goes to the worker's log with the event's and job's ids, and the job's log stays empty", async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) });
    const event = await eventOf('payment_intent.succeeded');
    const job = { ...jobFor(event), id: 'job-8' };

    await runStripeEvent(job, { ...runtime(), logger });

    expect(job.logs).toEqual([]);
    expect(lines).toContainEqual(expect.objectContaining({ level: 30, msg: 'payment pi_1PgafyB7WZ01zgkWSjxsAJo3 received 0 usd', eventId: event.id, jobId: 'job-8' }));
  });

  it("a handler's log lines carry the event, job and account ids (bound on its logger, not from async context)", async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) });
    const event = await eventOf('payment_intent.succeeded', { account: 'acct_1Logs' });
    await runStripeEvent({ ...jobFor(event), id: 'job-7' }, { ...runtime(), logger });
    expect(lines).toContainEqual(expect.objectContaining({ msg: 'payment succeeded', eventId: event.id, jobId: 'job-7', accountId: 'acct_1Logs' }));
  });

  it('customer.created: returns the customer', async () => {
    const event = await eventOf('customer.created');
    expect(await runStripeEvent(jobFor(event), runtime())).toMatchObject({ result: { customer: 'cus_QXg1o8vcGmoR32' } });
  });

  it("account.application.deauthorized: deletes the account's stored tokens", async () => {
    const event = await eventOf('account.application.deauthorized', { account: 'acct_1Gone' });
    const result = await runStripeEvent(jobFor(event), runtime());
    expect(deleted).toEqual(['acct_1Gone']);
    expect(result).toMatchObject({ result: { account: 'acct_1Gone', usersWithTokensDeleted: 2, accountGone: false } });
  });

  it('account.application.deauthorized for an account Stripe no longer grants access to completes, logged at info', async () => {
    const event = await eventOf('account.application.deauthorized', { account: 'acct_1Uninstalled' });
    const lines: { level: number; msg: string }[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line) as { level: number; msg: string }) });
    const job = jobFor(event);

    const result = await runStripeEvent(job, { ...runtime(), logger, jobLogs: true });

    expect(result).toMatchObject({ result: { account: 'acct_1Uninstalled', usersWithTokensDeleted: 2, accountGone: true } });
    expect(job.logs.join('\n')).toContain('no longer reachable');
    const line = lines.find((l) => l.msg.includes('no longer grants access'));
    expect(line?.level).toBe(30);
  });

  it('account.application.deauthorized without an account fails at once (UnrecoverableError)', async () => {
    // The builder fills in an account for account.* types, as Stripe sends them; a malformed delivery has none.
    const { account: _account, ...event } = await eventOf('account.application.deauthorized');
    await expect(runStripeEvent(jobFor(event), runtime())).rejects.toThrow(expect.objectContaining({ name: 'UnrecoverableError', message: expect.stringContaining('account') }));
    expect(deleted).toEqual([]);
  });

  it('a type without a handler completes as ignored without writing a log line or progress', async () => {
    const event = await eventOf('plan.created');
    const job = jobFor(event);
    const result = await runStripeEvent(job, runtime());
    expect(result).toEqual({ status: 'ignored' });
    expect({ logs: job.logs, progress: job.progress }).toEqual({ logs: [], progress: [] });
  });

  it('malformed data fails at once with UnrecoverableError', async () => {
    const event = await eventOf('payment_intent.succeeded');
    (event.data.object as { amount_received: unknown }).amount_received = 'lots';
    await expect(runStripeEvent(jobFor(event), runtime())).rejects.toBeInstanceOf(UnrecoverableError);
    await expect(runStripeEvent(jobFor({ nope: true }), runtime())).rejects.toBeInstanceOf(UnrecoverableError);
  });

  it('a transient error rethrows as it is, so BullMQ retries; the handler sees the attempt number', async () => {
    const attempts: number[] = [];
    const flaky = new HandlerRegistry([
      defineHandler('customer.created', async (_event, ctx) => {
        attempts.push(ctx.attempt);
        throw new Error('provider timed out');
      }),
    ]);
    const event = await eventOf('customer.created');
    const failure = runStripeEvent(jobFor(event, 1), runtime(flaky));
    await expect(failure).rejects.toThrow('provider timed out');
    await expect(failure).rejects.not.toBeInstanceOf(UnrecoverableError);
    expect(attempts).toEqual([2]);
  });

  it('refuses two handlers for one type', () => {
    const handler = defineHandler('customer.created', async () => ({}));
    expect(() => new HandlerRegistry([handler, handler])).toThrow('two handlers for customer.created');
  });
});
