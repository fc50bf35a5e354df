import { useState } from 'preact/hooks';
import { JOB_STATES, type Overview, type QueueOverview } from '../../admin/admin-types';
import { useApi } from '../components/api-context';
import { Link } from '../components/link';
import { ErrorPanel, Loading, StaleNotice } from '../components/status';
import { ThroughputChart } from '../components/throughput-chart';
import { usePoll } from '../components/use-poll';
import { formatCount, formatDuration, formatMemory, formatTimestamp } from '../logic/format';
import { emptyEventQuery, hrefFor } from '../logic/routes';

function QueueCard({ queue }: { queue: QueueOverview }) {
  const workers = queue.workers.length;
  return (
    <section class="card" aria-labelledby={`queue-${queue.name}`} data-testid={`queue-${queue.name}`}>
      <header class="card-header">
        <h2 id={`queue-${queue.name}`}>{queue.name}</h2>
        <span class={`badge ${queue.isPaused ? 'badge-warn' : 'badge-ok'}`}>{queue.isPaused ? 'paused' : 'running'}</span>
      </header>
      <ul class="counts" aria-label={`${queue.name} jobs by state`}>
        {JOB_STATES.map((state) => (
          <li key={state} class={`count count-${state} ${queue.counts[state] > 0 ? 'has-jobs' : ''}`}>
            <Link href={hrefFor({ name: 'jobs', queue: queue.name, state, page: 1 })}>
              <span class="count-value num" data-testid={`count-${queue.name}-${state}`}>
                {formatCount(queue.counts[state])}
              </span>
              <span class="count-label">{state}</span>
            </Link>
          </li>
        ))}
      </ul>
      <dl class="facts">
        <div>
          <dt>Workers online</dt>
          <dd class={`num ${workers === 0 ? 'text-warn' : ''}`} data-testid={`workers-${queue.name}`}>
            {formatCount(workers)}
            {workers === 0 && <span class="hint"> — nothing will be processed; start a worker process</span>}
          </dd>
        </div>
        <div>
          <dt>Oldest waiting</dt>
          <dd class="num" data-testid={`oldest-${queue.name}`}>
            {queue.oldestWaitingAgeMs === null ? 'nothing waiting' : formatDuration(queue.oldestWaitingAgeMs)}
          </dd>
        </div>
      </dl>
      <ThroughputChart throughput={queue.throughput} queue={queue.name} />
    </section>
  );
}

/** Accepted webhooks a worker has not yet turned into jobs: near zero while any worker runs. */
function IntakeCard({ overview }: { overview: Overview }) {
  const { intake } = overview;
  return (
    <section class="card" aria-labelledby="intake-title" data-testid="intake-card">
      <header class="card-header">
        <h2 id="intake-title">Webhook intake</h2>
      </header>
      <dl class="facts">
        <div>
          <dt>Accepted, not yet queued</dt>
          <dd class="num" data-testid="intake-waiting">
            {formatCount(intake.waiting)}
            {intake.waiting > 0 && <span class="hint"> — workers queue them as they run; it grows only while none does</span>}
          </dd>
        </div>
        <div>
          <dt>Being queued by a worker</dt>
          <dd class="num" data-testid="intake-pending">{formatCount(intake.pending)}</dd>
        </div>
        <div>
          <dt>Dead-lettered (no job could be made of them)</dt>
          <dd class={`num ${intake.deadLettered > 0 ? 'text-danger' : ''}`} data-testid="intake-dead-lettered">
            {intake.deadLettered > 0 ? (
              <Link href={hrefFor({ name: 'events', query: { ...emptyEventQuery(), status: 'dead-lettered' } })}>{formatCount(intake.deadLettered)}</Link>
            ) : (
              formatCount(intake.deadLettered)
            )}
          </dd>
        </div>
      </dl>
    </section>
  );
}

/**
 * The event index's convergence: records still queued or processing (the index sweep settles any that
 * outlive their job), and events lost, which must stay at zero.
 */
function EventIndexCard({ overview }: { overview: Overview }) {
  const { events } = overview;
  return (
    <section class="card" aria-labelledby="event-index-title" data-testid="event-index-card">
      <header class="card-header">
        <h2 id="event-index-title">Event index</h2>
        <span class={`badge ${events.lost > 0 ? 'state-lost' : 'badge-ok'}`}>{events.lost > 0 ? 'events lost' : 'ok'}</span>
      </header>
      <dl class="facts">
        <div>
          <dt>Queued or processing</dt>
          <dd class="num" data-testid="events-open">
            {formatCount(events.open)}
            {events.oldestOpenAgeMs !== null && <span class="hint"> — oldest {formatDuration(events.oldestOpenAgeMs)}</span>}
          </dd>
        </div>
        <div>
          <dt>Lost</dt>
          <dd class={`num ${events.lost > 0 ? 'text-danger' : ''}`} data-testid="events-lost">
            {events.lost > 0 ? (
              <Link href={hrefFor({ name: 'events', query: { ...emptyEventQuery(), status: 'lost' } })}>{formatCount(events.lost)}</Link>
            ) : (
              formatCount(events.lost)
            )}
            {events.lost > 0 && <span class="hint"> — accepted, but their job vanished unfinished; replay them</span>}
          </dd>
        </div>
      </dl>
    </section>
  );
}

/** Stripe API requests per second the workers spend together, out of STRIPE_API_REQUESTS_PER_SECOND. */
function StripeBudgetCard({ overview }: { overview: Overview }) {
  const budget = overview.stripeBudget;
  const percent = budget.perSecond > 0 ? Math.round((budget.inUse / budget.perSecond) * 100) : 0;
  return (
    <section class="card" aria-labelledby="budget-title" data-testid="stripe-budget-card">
      <header class="card-header">
        <h2 id="budget-title">Stripe API budget</h2>
        <span class={`badge ${budget.paused ? 'badge-warn' : 'badge-ok'}`}>{budget.paused ? 'backing off (429)' : 'ok'}</span>
      </header>
      <dl class="facts">
        <div>
          <dt>In use, last second</dt>
          <dd class="num" data-testid="stripe-budget-in-use">
            {formatCount(budget.inUse)} / {formatCount(budget.perSecond)} per second ({percent} %)
          </dd>
        </div>
        <div>
          <dt>Requests sent · answered 429</dt>
          <dd class="num" data-testid="stripe-budget-totals">
            {formatCount(budget.sent)} · {formatCount(budget.rateLimited)}
          </dd>
        </div>
      </dl>
    </section>
  );
}

interface ReconcileStatus {
  intervalMinutes: number;
  nextRunAt: string | null;
  lastRun: { startedAt: string; finishedAt: string; listed: number; recovered: number; errors: number; error: string | null; trigger: string } | null;
}

/** Reconciliation: what the last run listed and recovered, when the next runs, and a button to run one now. */
function ReconcileCard() {
  const api = useApi();
  const poll = usePoll(() => api.get<ReconcileStatus>('/api/admin/reconcile'), 'reconcile');
  const [message, setMessage] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const runNow = async () => {
    setBusy(true);
    try {
      const queued = await api.post<{ jobId: string }>('/api/admin/reconcile');
      setMessage(`Reconciliation queued (job ${queued.jobId}); the last run below updates when it is done.`);
      poll.refresh();
    } catch (err) {
      setMessage(`Could not start reconciliation: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      setBusy(false);
    }
  };
  const status = poll.data;
  const last = status?.lastRun ?? null;
  return (
    <section class="card" aria-labelledby="reconcile-title" data-testid="reconcile-card">
      <header class="card-header">
        <h2 id="reconcile-title">Reconciliation</h2>
        <button type="button" class="button" disabled={busy} onClick={() => void runNow()}>
          Run now
        </button>
      </header>
      <dl class="facts">
        <div>
          <dt>Last run</dt>
          <dd class={`num ${last?.error ? 'text-danger' : ''}`} data-testid="reconcile-last">
            {last
              ? `${formatTimestamp(last.finishedAt)} · listed ${formatCount(last.listed)} · recovered ${formatCount(last.recovered)} · errors ${formatCount(last.errors)}${last.error ? ` (${last.error})` : ''}`
              : 'never'}
          </dd>
        </div>
        <div>
          <dt>Next run</dt>
          <dd class="num" data-testid="reconcile-next">
            {status?.nextRunAt ? formatTimestamp(status.nextRunAt) : 'off (RECONCILE_INTERVAL_MINUTES=0 or no STRIPE_SECRET_KEY)'}
          </dd>
        </div>
      </dl>
      {message && <p class="hint" role="status">{message}</p>}
    </section>
  );
}

/** Events Stripe failed to generate (never delivered, never listed): the objects to re-fetch. */
function HealthAlertsCard({ overview }: { overview: Overview }) {
  const alerts = overview.healthAlerts ?? [];
  return (
    <section class="card" aria-labelledby="health-title" data-testid="health-alerts-card">
      <header class="card-header">
        <h2 id="health-title">Events Stripe failed to generate</h2>
        <span class={`badge ${alerts.length ? 'badge-warn' : 'badge-ok'}`}>{alerts.length ? `${alerts.length} recent` : 'none'}</span>
      </header>
      {alerts.length === 0 ? (
        <p class="muted break">No v2.core.health.event_generation_failure.resolved received.</p>
      ) : (
        <ul class="plain-list break" data-testid="health-alerts">
          {alerts.map((alert) => (
            <li key={alert.eventId}>
              <span class="num">{formatTimestamp(alert.resolvedAt ?? alert.receivedAt)}</span> {alert.summary ?? alert.eventType ?? 'events not generated'}
              {alert.refetch?.url && (
                <span class="hint">
                  {' '}— re-fetch <code>{alert.refetch.url}</code>
                </span>
              )}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function RedisCard({ overview }: { overview: Overview }) {
  const { redis } = overview;
  const policyOk = redis.policy === 'noeviction';
  return (
    <section class="card" aria-labelledby="redis-title" data-testid="redis-card">
      <header class="card-header">
        <h2 id="redis-title">Redis</h2>
      </header>
      <dl class="facts">
        <div>
          <dt>Memory used</dt>
          <dd class="num" data-testid="redis-memory">{formatMemory(redis.usedBytes, redis.maxBytes)}</dd>
        </div>
        <div>
          <dt>Eviction policy</dt>
          <dd data-testid="redis-policy" class={policyOk ? '' : 'text-danger'}>
            {redis.policy || 'unknown'}
            {!policyOk && <span class="hint"> — set noeviction: under eviction BullMQ silently loses jobs</span>}
          </dd>
        </div>
      </dl>
    </section>
  );
}

export function OverviewView() {
  const api = useApi();
  const poll = usePoll(() => api.get<Overview>('/api/admin/overview'), 'overview');
  if (poll.loading) return <Loading what="queue overview" minHeight="large" />;
  if (!poll.data) return <ErrorPanel error={poll.error!} onRetry={poll.refresh} />;
  const overview = poll.data;
  return (
    <div class="view">
      <div class="view-header">
        <h1>Overview</h1>
        <p class="muted num" aria-live="off">
          Live, every 2 s · data of {formatTimestamp(overview.generatedAt)}
        </p>
      </div>
      <StaleNotice error={poll.error} />
      <div class="grid">
        {overview.queues.map((queue) => (
          <QueueCard key={queue.name} queue={queue} />
        ))}
        <IntakeCard overview={overview} />
        <EventIndexCard overview={overview} />
        <StripeBudgetCard overview={overview} />
        <ReconcileCard />
        <HealthAlertsCard overview={overview} />
        <RedisCard overview={overview} />
      </div>
    </div>
  );
}
