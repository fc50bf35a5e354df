import { Router, type Request } from 'express';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { JOB_STATES, type ActionResult, type AdminSession } from '../admin/admin-types';
import { listJobs, promoteJob, readJobDetail, removeJob, retryAllFailed, retryJob } from '../admin/job-admin';
import { readOverview } from '../admin/queue-overview';
import type { Config } from '../config';
import { intakeLogFor } from '../events/intake-log';
import { openRecordsFor } from '../events/open-records';
import { AppError } from '../errors';
import { withRedisDeadline } from '../jobs';
import type { Logger } from '../logger';
import { ALL_QUEUES, type QueueName, type Queues } from '../queues';
import { adminAuth, logAdminAction, type AdminIdentity } from './admin-auth';
import { apiKeyAdminRoutes } from './api-key-admin-routes';

export interface AdminRoutesDeps {
  config: Pick<Config, 'ADMIN_TOKEN' | 'ADMIN_RATE_LIMIT_PER_MINUTE' | 'ADMIN_AUTH_FAILURES_PER_MINUTE' | 'QUEUE_PREFIX' | 'ENQUEUE_TIMEOUT_MS' | 'EVENT_INDEX_RETENTION_DAYS'>;
  redis: Redis;
  queues: Queues;
  logger: Logger;
}

// Admin reads take several Redis round trips (CLIENT LIST, scripts, INFO); allow more than a producer's
// enqueue deadline, but never hang an operator's screen on a Redis that does not answer.
const ADMIN_READ_DEADLINE_MS = 5000;

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

  router.get('/overview', async (_req, res) => {
    res.json(await read(() => readOverview(ALL_QUEUES.map((name) => queues[name]), intakeLogFor(redis, deps.config), openRecordsFor(redis, deps.config), redis)));
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
