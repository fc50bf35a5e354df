import { JOB_STATES, type JobPage, type JobState, type Overview } from '../../admin/admin-types';
import { useApi } from '../components/api-context';
import { ActionConfirmDialog } from '../components/confirm-dialog';
import { Link } from '../components/link';
import { navigate } from '../components/navigation';
import { OutcomeMessage } from '../components/outcome';
import { Empty, ErrorPanel, Loading, StaleNotice } from '../components/status';
import { useAction } from '../components/use-action';
import { usePoll } from '../components/use-poll';
import { formatAgo, formatAttempts, formatProgress } from '../logic/format';
import { pageSummary, retryAllSpec } from '../logic/job-actions';
import { hrefFor } from '../logic/routes';

const PAGE_SIZE = 20;

const EMPTY_HINTS: Record<JobState, string> = {
  waiting: 'Nothing is waiting: workers are keeping up. New jobs come from POST /api/jobs and Stripe webhooks.',
  active: 'No job is running right now.',
  delayed: 'No job is waiting for a retry backoff or a delay.',
  completed: 'No completed jobs are kept (completed jobs are removed after JOB_REMOVE_ON_COMPLETE_AGE_SECONDS).',
  failed: 'Jobs that exhaust their attempts, or fail permanently, show up here.',
  paused: 'No jobs are held by a paused queue.',
};

function QueueTabs({ queues, current, state }: { queues: string[]; current: string; state: JobState }) {
  return (
    <nav class="tabs" aria-label="Queues">
      {queues.map((queue) => (
        <Link
          key={queue}
          href={hrefFor({ name: 'jobs', queue, state, page: 1 })}
          class="tab"
          aria-current={queue === current ? 'page' : undefined}
        >
          {queue}
        </Link>
      ))}
    </nav>
  );
}

function StateTabs({ queue, current, counts }: { queue: string; current: JobState; counts: Record<string, number> | null }) {
  return (
    <nav class="tabs" aria-label="Job states">
      {JOB_STATES.map((state) => (
        <Link
          key={state}
          href={hrefFor({ name: 'jobs', queue, state, page: 1 })}
          class="tab"
          aria-current={state === current ? 'page' : undefined}
        >
          {state} <span class="num tab-count">{counts ? counts[state] : '·'}</span>
        </Link>
      ))}
    </nav>
  );
}

export function JobsView({ queue, state, page }: { queue: string; state: JobState; page: number }) {
  const api = useApi();
  const key = `${queue}:${state}:${page}`;
  const list = usePoll(
    () => api.get<JobPage>(`/api/admin/queues/${encodeURIComponent(queue)}/jobs`, { state, page, pageSize: PAGE_SIZE }),
    key,
  );
  const overview = usePoll(() => api.get<Overview>('/api/admin/overview'), 'jobs-overview');
  const queueNames = overview.data?.queues.map((q) => q.name) ?? [queue];
  const counts = overview.data?.queues.find((q) => q.name === queue)?.counts ?? null;
  const action = useAction(api, queue, () => {
    list.refresh();
    overview.refresh();
  });
  const failedCount = counts?.failed ?? list.data?.total ?? 0;
  const paging = list.data ? pageSummary(list.data.page, list.data.pageSize, list.data.total) : null;
  const goPage = (p: number) => navigate(hrefFor({ name: 'jobs', queue, state, page: p }));

  return (
    <div class="view">
      <div class="view-header">
        <h1>Jobs</h1>
        {state === 'failed' && (
          <button type="button" disabled={failedCount === 0} onClick={() => action.ask(retryAllSpec(queue, failedCount))}>
            Retry all failed
          </button>
        )}
      </div>
      <QueueTabs queues={queueNames} current={queue} state={state} />
      <StateTabs queue={queue} current={state} counts={counts} />
      <OutcomeMessage outcome={action.outcome} />
      <StaleNotice error={list.data ? list.error : null} />
      {list.loading && <Loading what={`${state} jobs`} />}
      {!list.loading && !list.data && list.error && <ErrorPanel error={list.error} onRetry={list.refresh} />}
      {list.data && list.data.jobs.length === 0 && (
        <Empty title={page > 1 ? `Page ${page} is empty.` : `No ${state} jobs in ${queue}.`}>
          <p>{page > 1 ? 'Jobs moved on since this page was loaded.' : EMPTY_HINTS[state]}</p>
          {page > 1 && <Link href={hrefFor({ name: 'jobs', queue, state, page: 1 })}>Go to the first page</Link>}
        </Empty>
      )}
      {list.data && list.data.jobs.length > 0 && (
        <div class="table-wrap" tabIndex={0} aria-label={`${state} jobs`}>
          <table class="table" data-testid="jobs-table">
            <thead>
              <tr>
                <th scope="col">Job</th>
                <th scope="col">Name</th>
                <th scope="col">Attempts</th>
                <th scope="col">Progress</th>
                <th scope="col">Created</th>
                <th scope="col">Reason</th>
              </tr>
            </thead>
            <tbody>
              {list.data.jobs.map((job) => (
                <tr key={job.id}>
                  <td class="mono">
                    <Link href={hrefFor({ name: 'job', queue, id: job.id })}>{job.id}</Link>
                  </td>
                  <td>{job.name}</td>
                  <td class="num">{formatAttempts(job.attemptsMade, job.maxAttempts)}</td>
                  <td class="num">{formatProgress(job.progress)}</td>
                  <td class="num">{formatAgo(job.createdAt, Date.now())}</td>
                  <td class="reason">{job.failedReason ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {paging && list.data && list.data.total > 0 && (
        <div class="pager">
          <button type="button" disabled={!paging.hasPrev} onClick={() => goPage(page - 1)}>
            Previous
          </button>
          <span class="num" aria-live="polite">{paging.label}</span>
          <button type="button" disabled={!paging.hasNext} onClick={() => goPage(page + 1)}>
            Next
          </button>
        </div>
      )}
      <ActionConfirmDialog action={action} />
    </div>
  );
}
