import { UnrecoverableError } from 'bullmq';
import type { Redis } from 'ioredis';
import type Stripe from 'stripe';
import { loadConfig } from '../../config';
import { createLogger, type Logger } from '../../logger';
import { createRedis, waitForRedis } from '../../redis';
import type { SecretStore } from '../../stripe/secret-store';
import type { HandlerRegistry, HandlerServices } from '../handlers/handler-registry';
import { STRIPE_EVENT_HANDLERS } from '../handlers';
import type { ProcessableJob } from './generic-job';
import { exitWithParent } from './exit-with-parent';

exitWithParent();

export type StripeEventJob = ProcessableJob;

/** What one processor needs beyond the job; built once per sandbox (a thread or child process). */
export interface StripeEventRuntime {
  handlers: Pick<HandlerRegistry, 'get'>;
  services: HandlerServices;
  logger: Logger;
}

/**
 * The services a handler may call, each built on first use: most events never need the Secret Store, and
 * a sandbox that does not load stripe-node or open a Redis connection starts faster and holds less.
 */
export function servicesFromConfig(config: ReturnType<typeof loadConfig>, logger: Logger): HandlerServices & { close(): Promise<void> } {
  let store: SecretStore | undefined;
  let redis: Redis | undefined;
  let connected: Promise<void> | undefined;
  return {
    deleteAccountSecrets: async (accountId) => {
      if (!config.STRIPE_SECRET_KEY) {
        // Without STRIPE_SECRET_KEY (never in production) the Stripe App cannot have stored any token.
        logger.warn({ accountId }, 'STRIPE_SECRET_KEY is not set; no stored tokens to delete');
        return { users: 0, accountGone: false };
      }
      if (!store) {
        // Built here rather than through the Stripe App services, which would load the OAuth client too.
        const { SecretStore } = require('../../stripe/secret-store') as typeof import('../../stripe/secret-store');
        const { createStripeClient } = require('../../stripe/stripe-client') as typeof import('../../stripe/stripe-client');
        // The processor role waits for Redis to come back rather than failing the job over a blip.
        redis = createRedis(config, 'processor');
        redis.on('error', (err) => logger.warn({ err: err.message }, 'secret store redis error'));
        store = new SecretStore({
          stripe: createStripeClient(config),
          redis,
          keyPrefix: config.QUEUE_PREFIX,
          redisDeadlineMs: config.ENQUEUE_TIMEOUT_MS,
        });
      }
      // The store refuses to write on a connection that is not ready (fail fast), and this one may have been
      // made just now: a job waits for it to connect. Not connecting in time fails this attempt (a retry),
      // and the next one waits again.
      connected ??= waitForRedis(redis!, config.REDIS_BOOT_TIMEOUT_MS).catch((err: unknown) => {
        connected = undefined;
        throw err;
      });
      await connected;
      return store.deleteAccountSecrets(accountId);
    },
    /** Closes what was opened on first use (a sandbox thread ends with its process and does not need to). */
    close: async () => {
      redis?.disconnect();
    },
  };
}

let runtime: StripeEventRuntime | undefined;

/** Sandboxed processors run in another thread or process, so the runtime is built there, on the first job. */
function defaultRuntime(): StripeEventRuntime {
  if (!runtime) {
    const config = loadConfig();
    const logger = createLogger({ level: config.LOG_LEVEL, name: 'worker' });
    runtime = { handlers: STRIPE_EVENT_HANDLERS, services: servicesFromConfig(config, logger), logger };
  }
  return runtime;
}

function readEvent(data: unknown): Stripe.Event {
  const event = data as { id?: unknown; type?: unknown; data?: { object?: unknown } } | null;
  if (!event || typeof event.id !== 'string' || typeof event.type !== 'string' || typeof event.data?.object !== 'object') {
    throw new UnrecoverableError('malformed event: the job data is not a Stripe event with id, type and data.object');
  }
  return event as unknown as Stripe.Event;
}

/**
 * Runs the handler registered for the event's type. The event index's status follows the job from the
 * worker's main process (EventStatusRecorder), so a job without a handler costs no Redis write here,
 * and one with a handler only what the handler logs and reports.
 */
export async function runStripeEvent(job: StripeEventJob, rt: StripeEventRuntime): Promise<Record<string, unknown>> {
  const event = readEvent(job.data);
  const handler = rt.handlers.get(event.type);
  // The job's data, name and id already say which event it was: the result says only what became of it.
  if (!handler) return { status: 'ignored' };
  const attempt = job.attemptsMade + 1;
  const result = await handler.handle(event, {
    attempt,
    log: async (line) => job.log(line),
    progress: (percent) => job.updateProgress(percent),
    logger: rt.logger.child({ eventId: event.id, jobId: job.id ?? event.id, ...(event.account ? { accountId: event.account } : {}) }),
    services: rt.services,
  });
  // No automatic 100 % report: completion says it, and in a sandbox each report is a message and a write.
  return { status: 'succeeded', result };
}

/**
 * The sandboxed entry point for the `stripe-events` queue. No AsyncLocalStorage here: running one in the
 * sandbox turns on promise hooks for every promise of the thread (BullMQ's own included), which cost more
 * per job than the rest of this file; the handler's logger carries the event, job and account ids instead.
 */
export async function processStripeEvent(job: StripeEventJob): Promise<Record<string, unknown>> {
  return runStripeEvent(job, defaultRuntime());
}

export default processStripeEvent;
