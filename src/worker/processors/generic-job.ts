import { UnrecoverableError, type JobProgress } from 'bullmq';
import type { JobTelemetryOpts } from '../../telemetry/tracing';
import { exitWithParent } from './exit-with-parent';

exitWithParent();

/** The subset of Job and SandboxedJob a processor uses, so one function runs in-process and sandboxed. */
export interface ProcessableJob {
  id?: string | undefined;
  name: string;
  data: unknown;
  attemptsMade: number;
  updateProgress(value: JobProgress): Promise<void>;
  log(row: string): unknown;
  /** BullMQ's job options: the trace context the intake mover gave the job is in them (JobTelemetryOpts). */
  opts?: JobTelemetryOpts | undefined;
}

interface GenericJobOptions {
  steps: number;
  stepMs: number;
  fail?: 'transient' | 'permanent';
  failUntilAttempt: number;
}

function readOptions(data: unknown): GenericJobOptions {
  const d = (data ?? {}) as Record<string, unknown>;
  const steps = d.steps ?? 3;
  const stepMs = d.stepMs ?? 0;
  const failUntilAttempt = d.failUntilAttempt ?? 0;
  const valid = (v: unknown, max: number) => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= max;
  // Malformed input will never get better on a retry: fail at once.
  if (!valid(steps, 100) || (steps as number) < 1) throw new UnrecoverableError('steps must be an integer 1-100');
  if (!valid(stepMs, 60_000)) throw new UnrecoverableError('stepMs must be an integer 0-60000');
  if (!valid(failUntilAttempt, 100)) throw new UnrecoverableError('failUntilAttempt must be an integer 0-100');
  if (d.fail !== undefined && d.fail !== 'transient' && d.fail !== 'permanent') {
    throw new UnrecoverableError('fail must be "transient" or "permanent"');
  }
  return {
    steps: steps as number,
    stepMs: stepMs as number,
    failUntilAttempt: failUntilAttempt as number,
    ...(d.fail ? { fail: d.fail } : {}),
  };
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The processor behind `POST /api/jobs`: walks through `steps` steps of `stepMs` each, reporting progress
 * and writing a job log line per step. `fail` and `failUntilAttempt` let an operator (and the tests)
 * exercise retries and permanent failures end to end.
 */
export async function processGenericJob(job: ProcessableJob): Promise<Record<string, unknown>> {
  const options = readOptions(job.data);
  const attempt = job.attemptsMade + 1;
  await job.log(`attempt ${attempt} started with ${options.steps} step(s)`);
  if (options.fail === 'permanent') throw new UnrecoverableError('asked to fail permanently');
  for (let step = 1; step <= options.steps; step += 1) {
    if (options.stepMs > 0) await pause(options.stepMs);
    await job.updateProgress(Math.round((step / options.steps) * 100));
    await job.log(`step ${step}/${options.steps} done`);
  }
  if (options.fail === 'transient' || attempt <= options.failUntilAttempt) {
    throw new Error(`transient failure on attempt ${attempt}`);
  }
  return { ok: true, steps: options.steps, attempt, keys: Object.keys(job.data as object), pid: process.pid };
}

export default processGenericJob;
