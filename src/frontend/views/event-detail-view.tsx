import { useState } from 'preact/hooks';
import { useApi } from '../components/api-context';
import { ConfirmDialog } from '../components/confirm-dialog';
import { JsonBlock, LinesBlock } from '../components/json-block';
import { Link } from '../components/link';
import { OutcomeMessage } from '../components/outcome';
import { ErrorPanel, Loading, StaleNotice } from '../components/status';
import type { ActionOutcome } from '../components/use-action';
import { usePoll } from '../components/use-poll';
import { ApiError, networkError } from '../logic/api-client';
import { readEventDetail } from '../logic/events';
import { formatTimestamp } from '../logic/format';
import { hrefFor } from '../logic/routes';

const EVENTS_QUEUE = 'stripe-events';

export function EventDetailView({ id }: { id: string }) {
  const api = useApi();
  const path = `/api/events/${encodeURIComponent(id)}`;
  const event = usePoll(async () => readEventDetail(await api.get<unknown>(path)), path);
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<ActionOutcome | null>(null);

  const replay = async () => {
    setBusy(true);
    try {
      await api.post<unknown>(`${path}/replay`);
      setOutcome({ ok: true, message: `Event ${id} was queued again; its status updates here as it runs.` });
      event.refresh();
    } catch (err) {
      const error = err instanceof ApiError ? err : networkError(err);
      setOutcome({ ok: false, message: `Replay failed: ${error.message}`, error });
    } finally {
      setBusy(false);
      setConfirming(false);
    }
  };

  if (event.loading) return <Loading what={`event ${id}`} minHeight="large" />;
  if (!event.data) {
    return (
      <div class="view">
        <Link href="/events">← Events</Link>
        <ErrorPanel error={event.error!} onRetry={event.refresh} />
      </div>
    );
  }
  const detail = event.data;
  return (
    <div class="view">
      <Link href="/events">← Events</Link>
      <div class="view-header">
        <h1 class="mono break">{detail.id}</h1>
        <span class={`badge state-${detail.status}`} data-testid="event-status">
          {detail.status}
        </span>
      </div>
      <StaleNotice error={event.error} />
      <div class="actions" role="group" aria-label="Event actions">
        <button type="button" class="primary" onClick={() => {
          setOutcome(null);
          setConfirming(true);
        }}>
          Replay
        </button>
        {detail.jobId && (
          <Link class="button-link" href={hrefFor({ name: 'job', queue: EVENTS_QUEUE, id: detail.jobId })}>
            Open its job
          </Link>
        )}
      </div>
      <OutcomeMessage outcome={outcome} />
      <dl class="facts facts-wide">
        <div>
          <dt>Type</dt>
          <dd>{detail.type}</dd>
        </div>
        <div>
          <dt>Object</dt>
          <dd class="mono">{detail.objectId ?? '—'}</dd>
        </div>
        <div>
          <dt>Account</dt>
          <dd class="mono">{detail.account ?? '—'}</dd>
        </div>
        <div>
          <dt>Received</dt>
          <dd class="num">{formatTimestamp(detail.receivedAt)}</dd>
        </div>
        <div>
          <dt>Attempts</dt>
          <dd class="num" data-testid="event-attempts">{detail.attempts ?? detail.attemptList.length}</dd>
        </div>
      </dl>
      {detail.lastError && (
        <section aria-labelledby="event-error-title">
          <h2 id="event-error-title">Last error</h2>
          <p class="text-danger">{detail.lastError}</p>
        </section>
      )}
      {detail.attemptList.length > 0 && (
        <section aria-labelledby="attempts-title">
          <h2 id="attempts-title">Attempts</h2>
          <ol class="attempts">
            {detail.attemptList.map((a, i) => (
              <li key={i}>
                <span class="num">{formatTimestamp(a.at)}</span> · {a.outcome}
                {a.error && <span class="text-danger"> · {a.error}</span>}
              </li>
            ))}
          </ol>
        </section>
      )}
      <section aria-labelledby="payload-title">
        <h2 id="payload-title">Payload</h2>
        <JsonBlock value={detail.payload} label="Event payload" />
      </section>
      <section aria-labelledby="event-logs-title">
        <h2 id="event-logs-title">Logs</h2>
        <LinesBlock lines={detail.logs} label="Event logs" empty="No log lines for this event (its job may have expired)." />
      </section>
      <ConfirmDialog
        open={confirming}
        title="Replay event"
        message={`Process event ${detail.id} (${detail.type}) again? Its handler runs once more with the stored payload.`}
        confirmLabel="Replay"
        busy={busy}
        onConfirm={() => void replay()}
        onCancel={() => setConfirming(false)}
      />
    </div>
  );
}
