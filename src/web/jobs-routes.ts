import { Router, type Request } from 'express';
import type { Redis } from 'ioredis';
import type { Config } from '../config';
import { AppError } from '../errors';
import { jobIdFromUrl } from '../job-ids';
import { describeJob, enqueueIdempotent, withRedisDeadline } from '../jobs';
import type { Logger } from '../logger';
import { GENERIC_JOB_NAME, type Queues } from '../queues';
import { apiKeyAuth, type ApiKeyAuthDeps } from './api-key-auth';
import { jsonObjectBody } from './json-body';
import { describeRequestLine } from './request-context';

export interface JobsDeps {
  config: Pick<Config, 'JOBS_BODY_LIMIT' | 'ENQUEUE_TIMEOUT_MS' | 'IDEMPOTENCY_TTL_SECONDS'> & ApiKeyAuthDeps['config'];
  redis: Redis;
  queues: Pick<Queues, 'jobs'>;
  logger: Logger;
}

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

function idempotencyKey(req: Request): string | undefined {
  const key = req.get('idempotency-key');
  if (key === undefined) return undefined;
  if (!IDEMPOTENCY_KEY.test(key)) {
    throw new AppError('VALIDATION_FAILED', 'Idempotency-Key must be 1-255 printable ASCII characters.');
  }
  return key;
}

/** `POST /api/jobs` and `GET /api/jobs/:id`: the generic jobs API, behind API keys (checked before the body is read). */
export function jobsRoutes(deps: JobsDeps): Router {
  const { config, redis, queues } = deps;
  const apiKey = apiKeyAuth(deps);
  const router = Router();
  router.post('/jobs', apiKey('jobs:write'), ...jsonObjectBody(config.JOBS_BODY_LIMIT), async (req, res) => {
    const data = req.body as Record<string, unknown>;
    const key = idempotencyKey(req);
    const { jobId, replayed } = await withRedisDeadline(redis, config.ENQUEUE_TIMEOUT_MS, () =>
      enqueueIdempotent(queues.jobs, redis, {
        name: GENERIC_JOB_NAME,
        data,
        ttlSeconds: config.IDEMPOTENCY_TTL_SECONDS,
        ...(key ? { idempotencyKey: key } : {}),
      }),
    );
    describeRequestLine(res, 'job accepted', { jobId, replayed });
    res.status(202).location(`/api/jobs/${encodeURIComponent(jobId)}`).json({ jobId, replayed });
  });

  router.get('/jobs/:id', apiKey('jobs:read'), async (req, res) => {
    const id = jobIdFromUrl(req.params.id);
    const job = await withRedisDeadline(redis, config.ENQUEUE_TIMEOUT_MS, () => queues.jobs.getJob(id));
    if (!job) throw new AppError('JOB_NOT_FOUND', `No job with id ${id}.`);
    const view = await withRedisDeadline(redis, config.ENQUEUE_TIMEOUT_MS, () => describeJob(queues.jobs, job));
    const { data: _data, stacktrace: _stack, queue: _queue, ...publicView } = view;
    res.json(publicView);
  });

  return router;
}
