import { EVENT_STATUSES, eventSearchParams, hasFilters, readEventDetail, readEventPage, SUPERSEDED_HINT } from '../../../src/frontend/logic/events';
import { emptyEventQuery } from '../../../src/frontend/logic/routes';

describe('event index readers', () => {
  it('sends only the filters that are filled, with a page size', () => {
    const query = { ...emptyEventQuery(), objectId: 'pi_1', cursor: 'c2' };
    expect(eventSearchParams(query)).toEqual({ limit: 25, objectId: 'pi_1', cursor: 'c2' });
    expect(hasFilters(query)).toBe(true);
    expect(hasFilters(emptyEventQuery())).toBe(false);
  });

  it('reads a page of events and its next cursor', () => {
    const page = readEventPage({
      events: [{ id: 'evt_1', type: 'payment_intent.succeeded', account: 'acct_1', objectId: 'pi_1', status: 'succeeded', receivedAt: '2026-11-25T20:00:00.000Z', attempts: 1, replays: 0 }],
      nextCursor: 'abc',
    });
    expect(page).toEqual({
      events: [{ id: 'evt_1', type: 'payment_intent.succeeded', account: 'acct_1', objectId: 'pi_1', status: 'succeeded', receivedAt: '2026-11-25T20:00:00.000Z', attempts: 1, lastError: null }],
      nextCursor: 'abc',
    });
  });

  it('reads a dead-lettered event with the error the console shows beside its badge', () => {
    const page = readEventPage({ events: [{ id: '12345', type: 't', status: 'dead-lettered', lastError: 'Error: Custom Id cannot be integers' }] });
    expect(page.events[0]).toMatchObject({ status: 'dead-lettered', lastError: 'Error: Custom Id cannot be integers' });
  });

  it('offers superseded as a status filter and reads a superseded event (final, not an error: no error beside it)', () => {
    expect(EVENT_STATUSES).toContain('superseded');
    const page = readEventPage({ events: [{ id: 'evt_old', type: 'customer.subscription.updated', status: 'superseded', attempts: 1 }] });
    expect(page.events[0]).toMatchObject({ status: 'superseded', lastError: null });
    expect(SUPERSEDED_HINT).toMatch(/newer event of the same object/);
  });

  it('shows missing optional fields as absent instead of failing', () => {
    const page = readEventPage({ events: [{ id: 'evt_2', type: 't' }] });
    expect(page.events[0]).toMatchObject({ account: null, objectId: null, status: 'unknown', receivedAt: null, attempts: null });
    expect(page.nextCursor).toBeNull();
  });

  it('reads an event with its payload, attempts, replays, last error and job', () => {
    const detail = readEventDetail({
      id: 'evt_3',
      type: 'invoice.paid',
      status: 'failed',
      created: '2026-11-25T19:59:00.000Z',
      receivedAt: '2026-11-25T20:00:00.000Z',
      payload: { id: 'evt_3' },
      attempts: 3,
      replays: 1,
      lastError: 'boom',
      jobId: 'evt_3-replay-1',
      source: 'replay',
      thinEventId: 'evt_test_65R9',
    });
    expect(detail).toMatchObject({
      source: 'replay',
      thinEventId: 'evt_test_65R9',
      payload: { id: 'evt_3' },
      lastError: 'boom',
      jobId: 'evt_3-replay-1',
      attempts: 3,
      replays: 1,
      created: '2026-11-25T19:59:00.000Z',
    });
  });

  it('reads payloadExpired: true only when the API says so', () => {
    expect(readEventDetail({ id: 'e', payload: null, payloadExpired: true }).payloadExpired).toBe(true);
    expect(readEventDetail({ id: 'e', payload: '{"a":1}' }).payloadExpired).toBe(false);
  });

  it('shows a raw string payload as JSON when it parses', () => {
    expect(readEventDetail({ id: 'e', payload: '{"a":1}' }).payload).toEqual({ a: 1 });
    expect(readEventDetail({ id: 'e', payload: 'not json' }).payload).toBe('not json');
  });

  it('reads a record without a source as a webhook one (records written before sources existed)', () => {
    expect(readEventDetail({ id: 'e' })).toMatchObject({ source: 'webhook', thinEventId: null });
  });
});
