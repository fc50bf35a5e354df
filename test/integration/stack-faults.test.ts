import { BENCH_WEBHOOK_SECRET } from '../../bench/lib/signed-events';
import { SteadyLoad, summarise } from '../../bench/lib/steady-load';
import { verifyProcessing } from '../../chaos/lib/verify';
import { startStack, type Stack } from '../../src/dev/stack';

/**
 * The fast subset of `npm run chaos`: the real Procfile processes (dist/, built by `npm test`) behind
 * HAProxy, with a short, bounded load on loopback. Timeouts are looser than production's because CI
 * machines run other suites beside this one; stalled-job recovery is shortened so a killed worker's
 * jobs come back within the test.
 */
const ENV = {
  NODE_ENV: 'test',
  LOG_LEVEL: 'warn',
  STRIPE_WEBHOOK_SECRET: BENCH_WEBHOOK_SECRET,
  ENQUEUE_TIMEOUT_MS: '5000',
  REDIS_READY_TIMEOUT_MS: '2500',
  // Short enough that a killed worker's jobs come back within the test; long enough that a live worker's lock
  // renewal (every half of it) delayed by a loaded machine does not make its job stall a second time (a job may
  // stall once: maxStalledCount 1).
  WORKER_LOCK_DURATION_MS: '5000',
  WORKER_STALLED_INTERVAL_MS: '1000',
  SHUTDOWN_TIMEOUT_MS: '8000',
};

const loadOf = (stack: Stack, prefix: string, rate: number, seconds: number) =>
  new SteadyLoad({ url: stack.url, rate, maxRequests: rate * seconds, maxDurationMs: seconds * 1000 + 10_000, secret: BENCH_WEBHOOK_SECRET, prefix });

describe('the stack under faults (2 web behind HAProxy, Redis with AOF)', () => {
  let stack: Stack | undefined;

  afterEach(async () => {
    await stack?.stop();
    stack = undefined;
  });

  it('when a web instance gets SIGTERM under load, no request through the load balancer fails and every accepted event is processed', async () => {
    stack = await startStack({ web: 2, worker: 1, env: ENV, respawn: false, checkTimeoutMs: 3000 });
    const load = loadOf(stack, `t${Date.now().toString(36)}`, 50, 4);
    while (load.sent < 60) await new Promise((resolve) => setTimeout(resolve, 20));
    const exit = await stack.web[0]!.kill('SIGTERM');
    const summary = summarise(await load.done);

    expect(exit).toEqual({ code: 0, signal: null });
    // byCode says who refused, if anything was: a web's problem code, or none for HAProxy's own 503.
    expect({ failed: summary.failed, byStatus: summary.byStatus, byCode: summary.byCode, errors: summary.errors }).toEqual({
      failed: 0,
      byStatus: { 200: summary.sent },
      byCode: {},
      errors: {},
    });
    expect(summary.sent).toBe(200);
    const processing = await verifyProcessing(stack.redis.url, summary.accepted, 60_000);
    expect(processing).toMatchObject({ accepted: 200, processed: 200, lost: 0, failed: 0 });
  }, 120_000);

  it('when the only worker is SIGKILLed mid-drain, its replacement processes every accepted event', async () => {
    stack = await startStack({ web: 2, worker: 1, env: ENV, respawn: true, checkTimeoutMs: 3000 });
    const burst = loadOf(stack, `k${Date.now().toString(36)}`, 1000, 1);
    const worker = stack.worker[0]!;
    const starts = worker.starts;
    // Kill as soon as the worker has started on the backlog, so it dies holding jobs.
    while (burst.sent < 300) await new Promise((resolve) => setTimeout(resolve, 10));
    await worker.kill('SIGKILL');
    const summary = summarise(await burst.done);
    await worker.waitForReplacement(starts, 30_000);

    expect(summary.accepted.length).toBeGreaterThan(0);
    const processing = await verifyProcessing(stack.redis.url, summary.accepted, 60_000);
    // Why any failed, first (the counts below say only how many).
    expect(processing.failedReasons).toEqual({});
    expect(processing).toMatchObject({ accepted: summary.accepted.length, processed: summary.accepted.length, lost: 0, failed: 0 });
    // Its own bounds (the replacement within 30 s, the drain within 60 s) end it; jest's only catches a hang.
  }, 180_000);
});
