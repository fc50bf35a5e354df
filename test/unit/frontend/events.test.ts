import { eventSearchParams, hasFilters, readEventDetail, readEventPage } from '../../../src/frontend/logic/events';
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
      events: [{ id: 'evt_1', type: 'payment_intent.succeeded', account: 'acct_1', objectId: 'pi_1', status: 'processed', receivedAt: '2026-11-25T20:00:00Z', attempts: 1 }],
      nextCursor: 'abc',
    });
    expect(page).toEqual({
      events: [{ id: 'evt_1', type: 'payment_intent.succeeded', account: 'acct_1', objectId: 'pi_1', status: 'processed', receivedAt: '2026-11-25T20:00:00Z', attempts: 1 }],
      nextCursor: 'abc',
    });
  });

  it('shows missing optional fields as absent instead of failing', () => {
    const page = readEventPage({ events: [{ id: 'evt_2', type: 't' }] });
    expect(page.events[0]).toMatchObject({ account: null, objectId: null, status: 'unknown', receivedAt: null, attempts: null });
    expect(page.nextCursor).toBeNull();
  });

  it('reads an event with its payload, attempts and last error', () => {
    const detail = readEventDetail({
      id: 'evt_3',
      type: 'invoice.paid',
      status: 'failed',
      payload: { id: 'evt_3' },
      attempts: [{ at: '2026-11-25T20:00:00Z', outcome: 'failed', error: 'boom' }],
      lastError: 'boom',
      jobId: 'evt_3',
    });
    expect(detail).toMatchObject({ payload: { id: 'evt_3' }, lastError: 'boom', jobId: 'evt_3', attempts: 1 });
    expect(detail.attemptList).toEqual([{ at: '2026-11-25T20:00:00Z', outcome: 'failed', error: 'boom' }]);
  });
});
