import { createHash, randomUUID } from 'node:crypto';
import type { Job, JobsOptions, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { AppError, redisUnavailable } from './errors';
import { claimIdempotencyKey, confirmIdempotencyKey } from './idempotency-record';
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

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * Adds a job; with an idempotency key, retries of the same request return the first job's id.
 *
 * Why it is race-free across instances: one Lua script claims the key together with the body's hash and
 * a fresh job id (or reports who holds it), so of two requests with one key exactly one claims it, and
 * the other compares hashes inside the same script: another body answers 422, the same body is a replay.
 *
 * Why a failed add cannot strand a key: the record says `claimed` until the add succeeded and the claimer
 * confirmed it. A request with the same key and body that finds an unconfirmed claim adds the job itself,
 * under the record's job id and with the same body (the hash matches), then confirms; BullMQ ignores the
 * add if the claimer's landed first. So a claim whose add timed out or whose process died is completed by
 * the client's retry, and otherwise expires with the record's TTL. A confirmed record is never added
 * again: its job may have run and been removed, and a replay must not run it twice. (The one gap left: an
 * add that landed but was never confirmed, whose job then ran and was removed before the retry came.)
 *
 * The job id is fresh per claim rather than derived from the key: once the record expires, the key may
 * carry another body, which must get a job of its own, not be swallowed by an old job still retained.
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
  const recordKey = `${queue.opts.prefix}:${queue.name}:idempotency:${sha256(idempotencyKey)}`;
  const claim = await claimIdempotencyKey(redis, recordKey, { jobId: randomUUID(), hash: sha256(JSON.stringify(data)) }, ttlSeconds);
  if (claim.outcome === 'reused') {
    throw new AppError('IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was first used with a different body.');
  }
  const { jobId } = claim.record;
  if (claim.outcome !== 'replayed') {
    await queue.add(name, data, { ...opts, jobId });
    await confirmIdempotencyKey(redis, recordKey, claim.raw, claim.record);
  }
  return { jobId, replayed: claim.outcome !== 'claimed' };
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
