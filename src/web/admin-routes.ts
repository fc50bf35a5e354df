import express, { Router, type Request } from 'express';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { JOB_STATES, type ActionResult, type AdminSession } from '../admin/admin-types';
import { listJobs, promoteJob, readJobDetail, removeJob, retryAllFailed, retryJob } from '../admin/job-admin';
import { readOverview } from '../admin/queue-overview';
import { stripeRequestsPerSecond, type Config } from '../config';
import { intakeLogFor } from '../events/intake-log';
import { openRecordsFor } from '../events/open-records';
import { AppError } from '../errors';
import { withRedisDeadline } from '../jobs';
import type { Logger } from '../logger';
import { StripeApiBudget } from '../stripe/stripe-api-budget';
import { ALL_QUEUES, type QueueName, type Queues } from '../queues';
import { lastReconcileRun } from '../stripe/reconciler';
import '../stripe/webhook-errors';
import { nextReconcileAt, RECONCILE_JOB, RECONCILE_QUEUE, type ReconcileJobData } from '../stripe/reconcile-queue';
import { adminAuth, logAdminAction, type AdminIdentity } from './admin-auth';
import { apiKeyAdminRoutes } from './api-key-admin-routes';

export interface AdminRoutesDeps {
  config: Pick<Config, 'ADMIN_TOKEN' | 'ADMIN_RATE_LIMIT_PER_MINUTE' | 'ADMIN_AUTH_FAILURES_PER_MINUTE' | 'QUEUE_PREFIX' | 'ENQUEUE_TIMEOUT_MS' | 'EVENT_INDEX_RETENTION_DAYS'> &
    Partial<Pick<Config, 'STRIPE_API_REQUESTS_PER_SECOND' | 'STRIPE_SECRET_KEY' | 'RECONCILE_INTERVAL_MINUTES'>>;
  redis: Redis;
  queues: Queues;
  logger: Logger;
}

// Admin reads take several Redis round trips (CLIENT LIST, scripts, INFO); allow more than a producer's
// enqueue deadline, but never hang an operator's screen on a Redis that does not answer.
const ADMIN_READ_DEADLINE_MS = 5000;

// `since`: unix seconds or an ISO date; Stripe lists 30 days of events, so older asks list from there.
const reconcileBody = z
  .object({
    since: z.union([z.number().int().min(0), z.iso.datetime({ offset: true }).transform((v) => Math.floor(Date.parse(v) / 1000))]).optional(),
  })
  .strict();

const pageQuery = z.object({
  state: z.enum(JOB_STATES).default('failed'),
  page: z.coerce.number().int().min(1).max(100_000).default(1),
  pageSize: z.coerce.number().int().min(1).max(100).default(20),
});

function parseQuery<T>(schema: z.ZodType<T>, req: Request): T {
  const parsed = schema.safeParse(req.query);
  if (!parsed.success) {
    const detail = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new AppError('VALIDATION_FAILED', detail);
  }
  return parsed.data;
}

/**
 * `/api/admin/...`: what the operator console reads and does. Every route is behind adminAuth
 * (Bearer ADMIN_TOKEN, Redis-backed rate limit); every action is logged with the caller's token id.
 * The console polls (every 2 s) rather than streaming: a Bearer header cannot ride on EventSource, and
 * plain requests pass CloudFront and the ALB without buffering or idle-timeout surprises.
 */
export function adminRoutes(deps: AdminRoutesDeps): Router {
  const { redis, queues } = deps;
  const router = Router();
  const read = <T>(work: () => Promise<T>) => withRedisDeadline(redis, ADMIN_READ_DEADLINE_MS, work);
  const queueFor = (name: string): Queue => {
    if (!(ALL_QUEUES as readonly string[]).includes(name)) {
      throw new AppError('QUEUE_NOT_FOUND', `No queue named ${name}; queues are ${ALL_QUEUES.join(', ')}.`);
    }
    return queues[name as QueueName];
  };

  router.use(...adminAuth(deps));
  router.use((_req, res, next) => {
    // Operational data: never cached by the browser or CloudFront.
    res.setHeader('Cache-Control', 'no-store');
    next();
  });

  router.use('/api-keys', apiKeyAdminRoutes(deps));

  router.get('/session', (_req, res) => {
    const session: AdminSession = { tokenId: (res.locals.admin as AdminIdentity).tokenId };
    res.json(session);
  });

  // Read-only here: the web never spends the budget, it shows what the workers spend.
  const budget = new StripeApiBudget(redis, { perSecond: stripeRequestsPerSecond(deps.config), keyPrefix: deps.config.QUEUE_PREFIX });
  router.get('/overview', async (_req, res) => {
    res.json(
      await read(() =>
        readOverview(ALL_QUEUES.map((name) => queues[name]), intakeLogFor(redis, deps.config), openRecordsFor(redis, deps.config), redis, budget, deps.config.QUEUE_PREFIX),
      ),
    );
  });

  // Reconciliation runs in a worker; the web only asks for a run and reads what the last one did.
  let reconcileQueue: Queue | undefined;
  const reconcile = () => (reconcileQueue ??= new Queue(RECONCILE_QUEUE, { connection: redis, prefix: deps.config.QUEUE_PREFIX }));
  router.get('/reconcile', async (_req, res) => {
    const [lastRun, next] = await read(() => Promise.all([lastReconcileRun(redis, deps.config.QUEUE_PREFIX), nextReconcileAt(reconcile())]));
    res.json({
      intervalMinutes: deps.config.RECONCILE_INTERVAL_MINUTES ?? 15,
      lastRun,
      nextRunAt: next === null ? null : new Date(next).toISOString(),
    });
  });
  // The body is optional (no `since`: from the watermark); when sent it is a small JSON object.
  router.post('/reconcile', express.json({ limit: '4kb' }), async (req, res) => {
    const parsed = reconcileBody.safeParse(req.body ?? {});
    if (!parsed.success) throw new AppError('VALIDATION_FAILED', parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '));
    if (!deps.config.STRIPE_SECRET_KEY) throw new AppError('RECONCILE_NOT_CONFIGURED', 'Set STRIPE_SECRET_KEY: reconciliation lists events from Stripe.');
    const data: ReconcileJobData = { trigger: 'on-demand', ...(parsed.data.since !== undefined ? { since: parsed.data.since } : {}) };
    const job = await withRedisDeadline(redis, deps.config.ENQUEUE_TIMEOUT_MS, () => reconcile().add(RECONCILE_JOB, data, { attempts: 1, removeOnComplete: 100, removeOnFail: 100 }));
    logAdminAction(req, 'reconcile', { jobId: job.id, since: data.since ?? null });
    res.status(202).json({ queued: true, jobId: job.id, since: data.since ?? null });
  });

  router.get('/queues/:queue/jobs', async (req, res) => {
    const queue = queueFor(req.params.queue);
    const { state, page, pageSize } = parseQuery(pageQuery, req);
    res.json(await read(() => listJobs(queue, state, page, pageSize)));
  });

  router.get('/queues/:queue/jobs/:id', async (req, res) => {
    const queue = queueFor(req.params.queue);
    res.json(await read(() => readJobDetail(queue, req.params.id)));
  });

  /** Runs an action and logs who asked for what, and how it ended (refusals too: they are audit events). */
  const act = async (req: Request, action: string, run: () => Promise<ActionResult>): Promise<ActionResult> => {
    const target = { queue: req.params.queue, jobId: req.params.id };
    try {
      const result = await read(run);
      logAdminAction(req, action, { ...target, outcome: 'done', count: result.count });
      return result;
    } catch (err) {
      logAdminAction(req, action, { ...target, outcome: 'refused', code: (err as AppError).code ?? 'INTERNAL' });
      throw err;
    }
  };
  const param = (req: Request, name: 'queue' | 'id') => String(req.params[name]);

  router.post('/queues/:queue/jobs/:id/retry', async (req, res) => {
    res.json(await act(req, 'job.retry', () => retryJob(queueFor(param(req, 'queue')), param(req, 'id'))));
  });

  router.post('/queues/:queue/jobs/:id/promote', async (req, res) => {
    res.json(await act(req, 'job.promote', () => promoteJob(queueFor(param(req, 'queue')), param(req, 'id'))));
  });

  router.delete('/queues/:queue/jobs/:id', async (req, res) => {
    res.json(await act(req, 'job.remove', () => removeJob(queueFor(param(req, 'queue')), param(req, 'id'))));
  });

  router.post('/queues/:queue/retry-failed', async (req, res) => {
    res.json(await act(req, 'queue.retry-all-failed', () => retryAllFailed(queueFor(param(req, 'queue')))));
  });

  return router;
}
