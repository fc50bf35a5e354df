import type { Queue } from 'bullmq';

/** The queue reconciliation runs on (internal: not one of the console's job queues). */
export const RECONCILE_QUEUE = 'reconcile';
export const RECONCILE_JOB = 'reconcile';
/** One fixed id: every worker upserts the same schedule. */
export const RECONCILE_SCHEDULER_ID = 'stripe-reconcile';

export interface ReconcileJobData {
  trigger: 'scheduled' | 'on-demand';
  /** Unix seconds to list from instead of the watermark (on demand). */
  since?: number;
}

/** When the scheduler runs next (ms since the epoch), or null when reconciliation is off. */
export async function nextReconcileAt(queue: Queue): Promise<number | null> {
  const scheduler = await queue.getJobScheduler(RECONCILE_SCHEDULER_ID);
  return scheduler?.next ?? null;
}
