import type { Job, Queue } from 'bullmq';
import { AppError, registerErrorCodes } from '../errors';
import { jobIdFromUrl } from '../job-ids';
import { describeJob } from '../jobs';
import { isRedisUnavailableError } from '../redis-errors';
import type { ActionResult, JobDetail, JobPage, JobState, JobSummary } from './admin-types';

registerErrorCodes({
  QUEUE_NOT_FOUND: { status: 404, title: 'Queue not found' },
  JOB_ACTION_CONFLICT: { status: 409, title: 'The job is not in a state that allows this action' },
});

const iso = (ms: number | undefined | null) => (ms ? new Date(ms).toISOString() : null);

function summarise(job: Job, state: string): JobSummary {
  return {
    id: job.id!,
    name: job.name,
    state,
    progress: job.progress,
    attemptsMade: job.attemptsMade,
    // BullMQ runs a job once when attempts is unset or 0.
    maxAttempts: Math.max(1, job.opts.attempts ?? 1),
    failedReason: job.failedReason || null,
    createdAt: iso(job.timestamp),
    processedAt: iso(job.processedOn),
    finishedAt: iso(job.finishedOn),
  };
}

/** One page of a queue's jobs in `state`, newest first. */
export async function listJobs(queue: Queue, state: JobState, page: number, pageSize: number): Promise<JobPage> {
  const start = (page - 1) * pageSize;
  const [jobs, total] = await Promise.all([
    queue.getJobs([state], start, start + pageSize - 1, false),
    queue.getJobCountByTypes(state),
  ]);
  // getJobs can return undefined for a job removed between the range read and the hash read.
  const present = jobs.filter((job): job is Job => Boolean(job?.id));
  return { queue: queue.name, state, page, pageSize, total, jobs: present.map((job) => summarise(job, state)) };
}

/** Every admin job route reads its job here, so every one refuses an id that names a BullMQ key (404). */
export async function findJob(queue: Queue, id: string): Promise<Job> {
  const job = await queue.getJob(jobIdFromUrl(id));
  if (!job) throw new AppError('JOB_NOT_FOUND', `No job ${id} in queue ${queue.name}.`);
  return job;
}

export async function readJobDetail(queue: Queue, id: string): Promise<JobDetail> {
  const job = await findJob(queue, id);
  const view = await describeJob(queue, job);
  const delayedUntil = view.state === 'delayed' && job.delay ? job.timestamp + job.delay : null;
  return {
    ...summarise(job, view.state),
    queue: queue.name,
    data: view.data,
    returnValue: view.returnValue,
    stacktrace: view.stacktrace,
    logs: view.logs,
    delayedUntil,
  };
}

function conflict(job: Job, action: string, state: string): AppError {
  return new AppError('JOB_ACTION_CONFLICT', `Job ${job.id} is ${state}; it cannot be ${action}.`, {
    extra: { state },
  });
}

/**
 * Runs a BullMQ action after checking the state it needs. The check gives a clear message; BullMQ's own
 * check (in its Lua script) still decides if the job moved in between, and that error is a conflict too
 * (unless Redis is unavailable: that stays a 503).
 */
async function act(
  job: Job,
  action: string,
  allowed: readonly string[],
  run: (state: string) => Promise<unknown>,
): Promise<void> {
  const state = await job.getState();
  if (!allowed.includes(state)) throw conflict(job, action, state);
  try {
    await run(state);
  } catch (err) {
    // An outage is not a conflict: withRedisDeadline turns it into a 503 the operator can retry.
    if (isRedisUnavailableError(err)) throw err;
    const message = err instanceof Error ? err.message : String(err);
    throw new AppError('JOB_ACTION_CONFLICT', `Job ${job.id} could not be ${action}: ${message}`, { cause: err });
  }
}

export async function retryJob(queue: Queue, id: string): Promise<ActionResult> {
  const job = await findJob(queue, id);
  await act(job, 'retried', ['failed', 'completed'], (state) => job.retry(state as 'failed' | 'completed'));
  return { action: 'retry', queue: queue.name, jobId: id };
}

// Not 'active': the job is locked by its worker, and removing it underneath would lose its outcome.
const REMOVABLE_STATES = ['waiting', 'delayed', 'prioritized', 'completed', 'failed', 'paused', 'waiting-children'];

export async function removeJob(queue: Queue, id: string): Promise<ActionResult> {
  const job = await findJob(queue, id);
  await act(job, 'removed', REMOVABLE_STATES, () => job.remove());
  return { action: 'remove', queue: queue.name, jobId: id };
}

export async function promoteJob(queue: Queue, id: string): Promise<ActionResult> {
  const job = await findJob(queue, id);
  await act(job, 'promoted', ['delayed'], () => job.promote());
  return { action: 'promote', queue: queue.name, jobId: id };
}

/** Moves every failed job back to waiting; returns how many were failed when it started. */
export async function retryAllFailed(queue: Queue): Promise<ActionResult> {
  const count = await queue.getJobCountByTypes('failed');
  if (count > 0) await queue.retryJobs({ state: 'failed', count: 1000 });
  return { action: 'retry-all-failed', queue: queue.name, count };
}
