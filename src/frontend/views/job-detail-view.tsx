import { JOB_STATES, type JobDetail, type JobState } from '../../admin/admin-types';
import { useApi } from '../components/api-context';
import { ActionConfirmDialog } from '../components/confirm-dialog';
import { JsonBlock, LinesBlock } from '../components/json-block';
import { Link } from '../components/link';
import { navigate } from '../components/navigation';
import { OutcomeMessage } from '../components/outcome';
import { ErrorPanel, Loading, StaleNotice } from '../components/status';
import { useAction } from '../components/use-action';
import { usePoll } from '../components/use-poll';
import { formatAttempts, formatProgress, formatTimestamp, progressPercent } from '../logic/format';
import { actionsForState } from '../logic/job-actions';
import { hrefFor } from '../logic/routes';

const listStateFor = (state: string | undefined): JobState =>
  (JOB_STATES as readonly string[]).includes(state ?? '') ? (state as JobState) : 'failed';

function Progress({ progress }: { progress: unknown }) {
  const percent = progressPercent(progress);
  return (
    <span class="progress-line">
      {percent !== null && <progress max={100} value={percent} aria-label="Progress" />}
      <span class="num">{formatProgress(progress)}</span>
    </span>
  );
}

export function JobDetailView({ queue, id }: { queue: string; id: string }) {
  const api = useApi();
  const path = `/api/admin/queues/${encodeURIComponent(queue)}/jobs/${encodeURIComponent(id)}`;
  const job = usePoll(() => api.get<JobDetail>(path), path);
  const back = hrefFor({ name: 'jobs', queue, state: listStateFor(job.data?.state), page: 1 });
  // A removed job has no page any more: go back to the list it was in.
  const action = useAction(api, queue, (spec) => (spec.action === 'remove' ? navigate(back) : job.refresh()));

  if (job.loading) return <Loading what={`job ${id}`} minHeight="large" />;
  if (!job.data) {
    return (
      <div class="view">
        <Link href={back}>← Back to jobs</Link>
        <ErrorPanel error={job.error!} onRetry={job.refresh} />
      </div>
    );
  }
  const detail = job.data;
  const actions = actionsForState(detail.state, detail.id);
  return (
    <div class="view">
      <Link href={back}>← {queue} · {detail.state} jobs</Link>
      <div class="view-header">
        <h1 class="mono break">Job {detail.id}</h1>
        <span class={`badge badge-state state-${detail.state}`} data-testid="job-state">
          {detail.state}
        </span>
      </div>
      <StaleNotice error={job.error} />
      <div class="actions" role="group" aria-label="Job actions">
        {actions.map((spec) => (
          <button key={spec.action} type="button" class={spec.danger ? 'danger' : ''} onClick={() => action.ask(spec, detail.id)}>
            {spec.label}
          </button>
        ))}
        {actions.length === 0 && <span class="muted">No actions while the job is {detail.state}.</span>}
      </div>
      <OutcomeMessage outcome={action.outcome} />
      <dl class="facts facts-wide">
        <div>
          <dt>Queue / name</dt>
          <dd>
            {detail.queue} / {detail.name}
          </dd>
        </div>
        <div>
          <dt>Attempts</dt>
          <dd class="num" data-testid="job-attempts">{formatAttempts(detail.attemptsMade, detail.maxAttempts)}</dd>
        </div>
        <div>
          <dt>Progress</dt>
          <dd>
            <Progress progress={detail.progress} />
          </dd>
        </div>
        <div>
          <dt>Created</dt>
          <dd class="num">{formatTimestamp(detail.createdAt)}</dd>
        </div>
        <div>
          <dt>Started</dt>
          <dd class="num">{formatTimestamp(detail.processedAt)}</dd>
        </div>
        <div>
          <dt>Finished</dt>
          <dd class="num">{formatTimestamp(detail.finishedAt)}</dd>
        </div>
        {detail.delayedUntil !== null && (
          <div>
            <dt>Runs at</dt>
            <dd class="num">{formatTimestamp(new Date(detail.delayedUntil).toISOString())}</dd>
          </div>
        )}
      </dl>
      {detail.failedReason && (
        <section aria-labelledby="failure-title">
          <h2 id="failure-title">Failure</h2>
          <p class="text-danger" data-testid="job-failed-reason">{detail.failedReason}</p>
          <LinesBlock lines={detail.stacktrace} label="Stack trace" empty="No stack trace was recorded." />
        </section>
      )}
      <section aria-labelledby="data-title">
        <h2 id="data-title">Data</h2>
        <JsonBlock value={detail.data} label="Job data" />
      </section>
      <section aria-labelledby="logs-title">
        <h2 id="logs-title">Logs</h2>
        <LinesBlock lines={detail.logs} label="Job logs" empty="The job has not logged anything yet." />
      </section>
      {detail.returnValue !== null && (
        <section aria-labelledby="result-title">
          <h2 id="result-title">Result</h2>
          <JsonBlock value={detail.returnValue} label="Return value" />
        </section>
      )}
      <ActionConfirmDialog action={action} />
    </div>
  );
}
