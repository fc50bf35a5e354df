import { useState } from 'preact/hooks';
import type { JobDetail } from '../../admin/admin-types';
import { useApi } from '../components/api-context';
import { ConfirmDialog } from '../components/confirm-dialog';
import { JsonBlock, LinesBlock } from '../components/json-block';
import { Link } from '../components/link';
import { OutcomeMessage } from '../components/outcome';
import { ErrorPanel, Loading, StaleNotice } from '../components/status';
import type { ActionOutcome } from '../components/use-action';
import { usePoll } from '../components/use-poll';
import { ApiError, networkError, type ApiClient } from '../logic/api-client';
import { readEventDetail, SUPERSEDED_HINT, type EventDetail } from '../logic/events';
import { formatTimestamp } from '../logic/format';
import { hrefFor } from '../logic/routes';

const EVENTS_QUEUE = 'stripe-events';

interface EventWithJob {
  event: EventDetail;
  /** The job that processes (or processed) the event; null once BullMQ removed it after retention. */
  job: JobDetail | null;
}

/** The event from the index, and its current job's logs and failure from the queue. */
async function loadEvent(api: ApiClient, id: string): Promise<EventWithJob> {
  const event = readEventDetail(await api.get<unknown>(`/api/events/${encodeURIComponent(id)}`));
  if (!event.jobId) return { event, job: null };
  const jobPath = `/api/admin/queues/${EVENTS_QUEUE}/jobs/${encodeURIComponent(event.jobId)}`;
  const job = await api.get<JobDetail>(jobPath).catch((err: unknown) => {
    if (err instanceof ApiError && err.kind === 'not-found') return null;
    throw err;
  });
  return { event, job };
}

function JobLogs({ job, jobId }: { job: JobDetail | null; jobId: string | null }) {
  if (!job) {
    return (
      <p class="muted">
        {jobId
          ? `Job ${jobId} is no longer kept (finished jobs are removed after their retention), so its logs are gone.`
          : 'This event has no job.'}
      </p>
    );
  }
  return (
    <>
      <LinesBlock lines={job.logs} label="Job logs" empty="The job has not logged anything yet." />
      {job.stacktrace.length > 0 && (
        <>
          <h3>Stack trace of the last failure</h3>
          <LinesBlock lines={job.stacktrace} label="Stack trace" empty="" />
        </>
      )}
    </>
  );
}

export function EventDetailView({ id }: { id: string }) {
  const api = useApi();
  const loaded = usePoll(() => loadEvent(api, id), `event:${id}`);
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<ActionOutcome | null>(null);

  const replay = async () => {
    setBusy(true);
    try {
      const result = await api.post<{ jobId?: string }>(`/api/events/${encodeURIComponent(id)}/replay`);
      setOutcome({ ok: true, message: `Event ${id} was queued again as job ${result.jobId ?? '?'}; its status updates here.` });
      loaded.refresh();
    } catch (err) {
      const error = err instanceof ApiError ? err : networkError(err);
      setOutcome({ ok: false, message: `Replay failed: ${error.message}`, error });
    } finally {
      setBusy(false);
      setConfirming(false);
    }
  };

  if (loaded.loading) return <Loading what={`event ${id}`} minHeight="large" />;
  if (!loaded.data) {
    return (
      <div class="view">
        <Link href="/events">← Events</Link>
        <ErrorPanel error={loaded.error!} onRetry={loaded.refresh} />
      </div>
    );
  }
  const { event, job } = loaded.data;
  return (
    <div class="view">
      <Link href="/events">← Events</Link>
      <div class="view-header">
        <h1 class="mono break">{event.id}</h1>
        <span class={`badge state-${event.status}`} data-testid="event-status" title={event.status === 'superseded' ? SUPERSEDED_HINT : undefined}>
          {event.status}
        </span>
      </div>
      <StaleNotice error={loaded.error} />
      <div class="actions" role="group" aria-label="Event actions">
        <button
          type="button"
          class="primary"
          disabled={event.payloadExpired}
          title={event.payloadExpired ? 'The payload is no longer stored: the event cannot be replayed' : undefined}
          onClick={() => {
            setOutcome(null);
            setConfirming(true);
          }}
        >
          Replay
        </button>
        {job && (
          <Link class="button-link" href={hrefFor({ name: 'job', queue: EVENTS_QUEUE, id: job.id })}>
            Open its job
          </Link>
        )}
      </div>
      <OutcomeMessage outcome={outcome} />
      <dl class="facts facts-wide">
        <div>
          <dt>Type</dt>
          <dd>{event.type}</dd>
        </div>
        <div>
          <dt>Object</dt>
          <dd class="mono">{event.objectId ?? '—'}</dd>
        </div>
        <div>
          <dt>Account</dt>
          <dd class="mono">{event.account ?? '—'}</dd>
        </div>
        <div>
          <dt>Created at Stripe</dt>
          <dd class="num">{formatTimestamp(event.created)}</dd>
        </div>
        <div>
          <dt>Received</dt>
          <dd class="num">{formatTimestamp(event.receivedAt)}</dd>
        </div>
        <div>
          <dt>Attempts (this run)</dt>
          <dd class="num" data-testid="event-attempts">{event.attempts ?? 0}</dd>
        </div>
        <div>
          <dt>Source</dt>
          <dd data-testid="event-source">{event.source}</dd>
        </div>
        {event.thinEventId && (
          <div>
            <dt>Thin notification</dt>
            <dd class="mono">{event.thinEventId}</dd>
          </div>
        )}
        <div>
          <dt>Replays</dt>
          <dd class="num" data-testid="event-replays">{event.replays}</dd>
        </div>
        <div>
          <dt>Job</dt>
          <dd class="mono" data-testid="event-job">{event.jobId ?? '—'}</dd>
        </div>
      </dl>
      {event.lastError && (
        <section aria-labelledby="event-error-title">
          <h2 id="event-error-title">Last error</h2>
          <p class="text-danger" data-testid="event-last-error">{event.lastError}</p>
        </section>
      )}
      <section aria-labelledby="payload-title">
        <h2 id="payload-title">Payload</h2>
        {event.payloadExpired ? (
          <p class="muted" data-testid="event-payload-expired">
            payload expired: it is no longer stored (payloads are kept for a limited age and size, oldest dropped first), so this
            event cannot be replayed. Its record and status remain.
          </p>
        ) : (
          <JsonBlock value={event.payload} label="Event payload" />
        )}
      </section>
      <section aria-labelledby="event-logs-title">
        <h2 id="event-logs-title">Logs</h2>
        <JobLogs job={job} jobId={event.jobId} />
      </section>
      <ConfirmDialog
        open={confirming}
        title="Replay event"
        message={`Process event ${event.id} (${event.type}) again? Its handler runs once more with the stored payload.`}
        confirmLabel="Replay"
        busy={busy}
        onConfirm={() => void replay()}
        onCancel={() => setConfirming(false)}
      />
    </div>
  );
}
