import type { JobAction } from '../../admin/admin-types';

export interface ActionSpec {
  action: JobAction;
  label: string;
  /** The confirmation dialog's question. */
  confirm: string;
  /** What the operator is told once it worked. */
  done: string;
  danger: boolean;
}

/** Which single-job actions make sense in a state: the server checks again, this keeps buttons honest. */
export function actionsForState(state: string, jobId: string): ActionSpec[] {
  const actions: ActionSpec[] = [];
  if (state === 'failed' || state === 'completed') {
    actions.push({
      action: 'retry',
      label: 'Retry',
      confirm: `Retry job ${jobId}? It goes back to waiting and runs again.`,
      done: `Job ${jobId} was moved back to waiting.`,
      danger: false,
    });
  }
  if (state === 'delayed') {
    actions.push({
      action: 'promote',
      label: 'Promote',
      confirm: `Run job ${jobId} now instead of waiting for its delay?`,
      done: `Job ${jobId} was promoted to waiting.`,
      danger: false,
    });
  }
  if (state !== 'active' && state !== 'unknown') {
    actions.push({
      action: 'remove',
      label: 'Remove',
      confirm: `Remove job ${jobId}? Its data, logs and result are deleted and cannot be recovered.`,
      done: `Job ${jobId} was removed.`,
      danger: true,
    });
  }
  return actions;
}

export function retryAllSpec(queue: string, failedCount: number): ActionSpec {
  return {
    action: 'retry-all-failed',
    label: 'Retry all failed',
    confirm: `Retry all ${failedCount} failed job(s) in ${queue}? They go back to waiting and run again.`,
    done: `Failed jobs in ${queue} were moved back to waiting.`,
    danger: false,
  };
}

/** The admin API call for an action. */
export function actionRequest(queue: string, action: JobAction, jobId?: string): { method: 'POST' | 'DELETE'; path: string } {
  const q = encodeURIComponent(queue);
  const j = encodeURIComponent(jobId ?? '');
  switch (action) {
    case 'retry':
      return { method: 'POST', path: `/api/admin/queues/${q}/jobs/${j}/retry` };
    case 'promote':
      return { method: 'POST', path: `/api/admin/queues/${q}/jobs/${j}/promote` };
    case 'remove':
      return { method: 'DELETE', path: `/api/admin/queues/${q}/jobs/${j}` };
    case 'retry-all-failed':
      return { method: 'POST', path: `/api/admin/queues/${q}/retry-failed` };
  }
}

/** "Page 2 of 5 · jobs 21-40 of 93"; pages are 1-based. */
export function pageSummary(page: number, pageSize: number, total: number): { label: string; hasPrev: boolean; hasNext: boolean; pages: number } {
  const pages = Math.max(1, Math.ceil(total / pageSize));
  if (total === 0) return { label: 'No jobs', hasPrev: page > 1, hasNext: false, pages };
  const first = (page - 1) * pageSize + 1;
  const last = Math.min(total, page * pageSize);
  const label = first > total ? `Page ${page} is past the end (${total} jobs)` : `Page ${page} of ${pages} · ${first}–${last} of ${total}`;
  return { label, hasPrev: page > 1, hasNext: page < pages, pages };
}
