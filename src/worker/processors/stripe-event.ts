import { UnrecoverableError } from 'bullmq';
import type { Redis } from 'ioredis';
import type Stripe from 'stripe';
import { loadConfig } from '../../config';
import { EventIndex } from '../../events/event-index';
import { createLogger, runWithLogContext, type Logger } from '../../logger';
import { createRedis } from '../../redis';
import { SecretStore } from '../../stripe/secret-store';
import { createStripeClient } from '../../stripe/stripe-client';
import type { HandlerRegistry, HandlerServices } from '../handlers/handler-registry';
import { STRIPE_EVENT_HANDLERS } from '../handlers';
import type { ProcessableJob } from './generic-job';
import { exitWithParent } from './exit-with-parent';

exitWithParent();

export interface StripeEventJob extends ProcessableJob {
  opts: { attempts?: number };
}

/** What one processor needs beyond the job; built once per sandbox (a thread or child process). */
export interface StripeEventRuntime {
  index: Pick<EventIndex, 'setStatus'>;
  handlers: Pick<HandlerRegistry, 'get'>;
  services: HandlerServices;
  logger: Logger;
}

function servicesFromConfig(config: ReturnType<typeof loadConfig>, redis: Redis, logger: Logger): HandlerServices {
  let store: SecretStore | undefined;
  return {
    deleteAccountSecrets: async (accountId) => {
      // Built here rather than through the Stripe App services, which would load the OAuth client too.
      if (config.STRIPE_SECRET_KEY) {
        store ??= new SecretStore({
          stripe: createStripeClient(config),
          redis,
          keyPrefix: config.QUEUE_PREFIX,
          redisDeadlineMs: config.ENQUEUE_TIMEOUT_MS,
        });
      }
      if (!store) {
        // Without STRIPE_SECRET_KEY (never in production) the Stripe App cannot have stored any token.
        logger.warn({ accountId }, 'STRIPE_SECRET_KEY is not set; no stored tokens to delete');
        return 0;
      }
      return store.deleteAccountSecrets(accountId);
    },
  };
}

let runtime: StripeEventRuntime | undefined;

/**
 * Sandboxed processors run in another thread or process, so the runtime (config, its own Redis
 * connection, the Secret Store) is built there, lazily, on the first job.
 */
function defaultRuntime(): StripeEventRuntime {
  if (!runtime) {
    const config = loadConfig();
    const logger = createLogger({ level: config.LOG_LEVEL, name: 'worker' });
    // The worker role waits for Redis to come back rather than failing the job over a blip.
    const redis = createRedis(config, 'processor');
    redis.on('error', (err) => logger.warn({ err: err.message }, 'event index redis error'));
    runtime = {
      index: new EventIndex(redis, config),
      handlers: STRIPE_EVENT_HANDLERS,
      services: servicesFromConfig(config, redis, logger),
      logger,
    };
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

const messageOf = (err: unknown) => (err instanceof Error ? err.message : String(err));

/**
 * Runs the handler registered for the event's type and keeps the event index's status in step. The
 * bookkeeping writes that do not depend on each other (final status, job log, progress) are issued
 * together, so a job costs two Redis round trips of bookkeeping, or one when no handler is registered.
 */
export async function runStripeEvent(job: StripeEventJob, rt: StripeEventRuntime): Promise<Record<string, unknown>> {
  const event = readEvent(job.data);
  const attempt = job.attemptsMade + 1;
  const jobId = job.id ?? event.id;
  const handler = rt.handlers.get(event.type);
  if (!handler) {
    // No progress report: nothing ran, and in a sandbox each report is a message to the parent and a write.
    await Promise.all([
      rt.index.setStatus(event.id, 'ignored', { attempts: attempt, jobId, lastError: null }),
      job.log(`no handler for ${event.type}; ignored`),
    ]);
    return { status: 'ignored', eventId: event.id, type: event.type };
  }
  await Promise.all([
    rt.index.setStatus(event.id, 'processing', { attempts: attempt, jobId }),
    job.log(`attempt ${attempt}: handling ${event.type}`),
  ]);
  try {
    const result = await handler.handle(event, {
      attempt,
      log: async (line) => job.log(line),
      progress: (percent) => job.updateProgress(percent),
      logger: rt.logger.child({ eventId: event.id, jobId }),
      services: rt.services,
    });
    await Promise.all([rt.index.setStatus(event.id, 'succeeded', { lastError: null }), job.updateProgress(100)]);
    return { status: 'succeeded', eventId: event.id, type: event.type, result };
  } catch (err) {
    const final = err instanceof UnrecoverableError || attempt >= (job.opts.attempts ?? 1);
    // Between retries the event waits in the queue again; only the last failure is `failed`.
    await Promise.all([
      rt.index.setStatus(event.id, final ? 'failed' : 'queued', { lastError: messageOf(err) }),
      job.log(`attempt ${attempt} failed${final ? '' : ' (will retry)'}: ${messageOf(err)}`),
    ]);
    throw err;
  }
}

/** The sandboxed entry point for the `stripe-events` queue. */
export async function processStripeEvent(job: StripeEventJob): Promise<Record<string, unknown>> {
  const eventId = (job.data as { id?: unknown } | null)?.id;
  const accountId = (job.data as { account?: unknown } | null)?.account;
  return runWithLogContext(
    {
      ...(job.id ? { jobId: job.id } : {}),
      ...(typeof eventId === 'string' ? { eventId } : {}),
      ...(typeof accountId === 'string' ? { accountId } : {}),
    },
    () => runStripeEvent(job, defaultRuntime()),
  );
}

export default processStripeEvent;
