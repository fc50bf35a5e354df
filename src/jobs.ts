import { createHash, randomUUID } from 'node:crypto';
import type { Job, JobsOptions, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { AppError, redisUnavailable } from './errors';
import { isRedisUnavailableError } from './redis-errors';

/**
 * Runs a Redis write with a deadline. A producer must answer fast: if Redis is down, slow or full the caller
 * gets REDIS_UNAVAILABLE (503 + Retry-After) instead of a hanging request, and never a 2xx for a write
 * Redis did not acknowledge. Only an outage becomes a 503 (see isRedisUnavailableError); any other error
 * (WRONGTYPE, a RangeError: a bug) propagates unchanged, so the problem handler answers 500 INTERNAL and
 * logs it at error level instead of passing it off as routine Redis trouble.
 */
export async function withRedisDeadline<T>(redis: Redis, deadlineMs: number, write: () => Promise<T>): Promise<T> {
  if (redis.status !== 'ready') throw redisUnavailable(new Error(`redis status ${redis.status}`));
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(redisUnavailable(new Error(`no answer within ${deadlineMs} ms`))), deadlineMs);
  });
  try {
    return await Promise.race([write(), deadline]);
  } catch (err) {
    throw isRedisUnavailableError(err) ? redisUnavailable(err) : err;
  } finally {
    clearTimeout(timer);
  }
}

export interface EnqueueResult {
  jobId: string;
  /** True when an earlier request with the same idempotency key already stored this job. */
  replayed: boolean;
}

const bodyHash = (data: unknown) => createHash('sha256').update(JSON.stringify(data)).digest('hex');

/**
 * Adds a job; with an idempotency key, retries of the same request return the first job's id.
 * The job id is derived from the key so concurrent retries collapse onto one job (BullMQ ignores an add
 * whose id exists), and the key is recorded only after the add succeeded, so a recorded key always
 * points at a stored job.
 */
export async function enqueueIdempotent(
  queue: Queue,
  redis: Redis,
  params: { name: string; data: Record<string, unknown>; idempotencyKey?: string; ttlSeconds: number; opts?: JobsOptions },
): Promise<EnqueueResult> {
  const { name, data, idempotencyKey, ttlSeconds, opts } = params;
  if (!idempotencyKey) {
    const job = await queue.add(name, data, { ...opts, jobId: randomUUID() });
    return { jobId: job.id!, replayed: false };
  }
  const hash = bodyHash(data);
  const recordKey = `${queue.opts.prefix}:${queue.name}:idempotency:${createHash('sha256').update(idempotencyKey).digest('hex')}`;
  const recorded = await redis.get(recordKey);
  if (recorded) {
    const { jobId, hash: recordedHash } = JSON.parse(recorded) as { jobId: string; hash: string };
    if (recordedHash !== hash) {
      throw new AppError('IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was first used with a different body.');
    }
    return { jobId, replayed: true };
  }
  const jobId = `idem-${createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 32)}`;
  await queue.add(name, data, { ...opts, jobId });
  await redis.set(recordKey, JSON.stringify({ jobId, hash }), 'EX', ttlSeconds, 'NX');
  return { jobId, replayed: false };
}

export interface JobView {
  id: string;
  name: string;
  queue: string;
  state: string;
  data: unknown;
  progress: unknown;
  returnValue: unknown;
  failedReason: string | null;
  stacktrace: string[];
  attemptsMade: number;
  createdAt: string | null;
  processedAt: string | null;
  finishedAt: string | null;
  logs: string[];
}

const iso = (ms: number | undefined) => (ms ? new Date(ms).toISOString() : null);

/**
 * The public shape of a job, with its state and logs. The state is read first and the job again after
 * it: a job that finishes between two reads then shows its final state with its final data (return
 * value, attempts), never "completed" beside the data of its active self.
 */
export async function describeJob(queue: Queue, job: Job): Promise<JobView> {
  const state = await queue.getJobState(job.id!);
  const [fresh, { logs }] = await Promise.all([queue.getJob(job.id!), queue.getJobLogs(job.id!, 0, 99)]);
  const current = fresh ?? job;
  return {
    id: current.id!,
    name: current.name,
    queue: queue.name,
    state,
    data: current.data,
    progress: current.progress,
    returnValue: current.returnvalue ?? null,
    failedReason: current.failedReason || null,
    stacktrace: current.stacktrace ?? [],
    attemptsMade: current.attemptsMade,
    createdAt: iso(current.timestamp),
    processedAt: iso(current.processedOn),
    finishedAt: iso(current.finishedOn),
    logs,
  };
}
