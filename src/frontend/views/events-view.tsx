import { useEffect, useState } from 'preact/hooks';
import { useApi } from '../components/api-context';
import { Link } from '../components/link';
import { navigate } from '../components/navigation';
import { Empty, ErrorPanel, Loading, StaleNotice } from '../components/status';
import { usePoll } from '../components/use-poll';
import { EVENT_STATUSES, eventSearchParams, hasFilters, readEventPage, SUPERSEDED_HINT } from '../logic/events';
import { formatTimestamp } from '../logic/format';
import { emptyEventQuery, hrefFor, type EventQuery } from '../logic/routes';

function SearchForm({ query }: { query: EventQuery }) {
  const [draft, setDraft] = useState<EventQuery>(query);
  useEffect(() => setDraft(query), [query.type, query.account, query.objectId, query.status]);
  const field = (name: keyof EventQuery) => ({
    id: `filter-${name}`,
    name,
    value: draft[name],
    onInput: (e: Event) => setDraft({ ...draft, [name]: (e.target as HTMLInputElement).value }),
  });
  const submit = (e: Event) => {
    e.preventDefault();
    const trimmed = Object.fromEntries(Object.entries(draft).map(([k, v]) => [k, v.trim()])) as unknown as EventQuery;
    navigate(hrefFor({ name: 'events', query: { ...trimmed, cursor: '' } }));
  };
  return (
    <form class="search-form" onSubmit={submit} role="search" aria-label="Search events">
      <div class="field">
        <label for="filter-objectId">Object id</label>
        <input {...field('objectId')} placeholder="pi_…, in_…, cus_…" autoComplete="off" spellcheck={false} />
      </div>
      <div class="field">
        <label for="filter-type">Event type</label>
        <input {...field('type')} placeholder="payment_intent.succeeded" autoComplete="off" spellcheck={false} />
      </div>
      <div class="field">
        <label for="filter-account">Account</label>
        <input {...field('account')} placeholder="acct_…" autoComplete="off" spellcheck={false} />
      </div>
      <div class="field">
        <label for="filter-status">Status</label>
        <select {...field('status')}>
          <option value="">any</option>
          {EVENT_STATUSES.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
      </div>
      <div class="field field-buttons">
        <button type="submit" class="primary">
          Search
        </button>
        <button type="button" onClick={() => navigate(hrefFor({ name: 'events', query: emptyEventQuery() }))}>
          Clear
        </button>
      </div>
    </form>
  );
}

export function EventsView({ query }: { query: EventQuery }) {
  const api = useApi();
  const key = JSON.stringify(query);
  const result = usePoll(async () => readEventPage(await api.get<unknown>('/api/events', eventSearchParams(query))), key, 0);

  return (
    <div class="view">
      <div class="view-header">
        <h1>Events</h1>
        <button type="button" onClick={result.refresh}>
          Refresh
        </button>
      </div>
      <SearchForm query={query} />
      <StaleNotice error={result.data ? result.error : null} />
      {result.loading && <Loading what="events" />}
      {!result.loading && !result.data && result.error && <ErrorPanel error={result.error} onRetry={result.refresh} />}
      {result.data && result.data.events.length === 0 && (
        <Empty title={hasFilters(query) ? 'No event matches these filters.' : 'No events have been received yet.'}>
          <p>
            {hasFilters(query)
              ? 'Check the object id (it is the id of the Stripe object inside the event, e.g. pi_…) or clear a filter.'
              : 'Events appear here once Stripe delivers webhooks to /webhooks/stripe.'}
          </p>
        </Empty>
      )}
      {result.data && result.data.events.length > 0 && (
        <div class="table-wrap" tabIndex={0} aria-label="Events">
          <table class="table" data-testid="events-table">
            <thead>
              <tr>
                <th scope="col">Event</th>
                <th scope="col">Status</th>
                <th scope="col">Type</th>
                <th scope="col">Object</th>
                <th scope="col">Account</th>
                <th scope="col">Received</th>
              </tr>
            </thead>
            <tbody>
              {result.data.events.map((event) => (
                <tr key={event.id}>
                  <td class="mono">
                    <Link href={hrefFor({ name: 'event', id: event.id })}>{event.id}</Link>
                  </td>
                  <td>
                    <span class={`badge state-${event.status}`} title={event.status === 'superseded' ? SUPERSEDED_HINT : (event.lastError ?? undefined)}>
                      {event.status}
                    </span>
                    {event.status === 'dead-lettered' && event.lastError && (
                      <span class="hint error-reason" data-testid="dead-letter-error" title={event.lastError}>
                        {event.lastError}
                      </span>
                    )}
                  </td>
                  <td class="wrap">{event.type}</td>
                  <td class="mono wrap">{event.objectId ?? '—'}</td>
                  <td class="mono wrap">{event.account ?? '—'}</td>
                  <td class="num">{formatTimestamp(event.receivedAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {result.data && (query.cursor || result.data.nextCursor) && (
        <div class="pager">
          <button type="button" disabled={!query.cursor} onClick={() => navigate(hrefFor({ name: 'events', query: { ...query, cursor: '' } }))}>
            First page
          </button>
          <button
            type="button"
            disabled={!result.data.nextCursor}
            onClick={() => navigate(hrefFor({ name: 'events', query: { ...query, cursor: result.data?.nextCursor ?? '' } }))}
          >
            Next page
          </button>
        </div>
      )}
    </div>
  );
}
