import { actionRequest, actionsForState, pageSummary, retryAllSpec } from '../../../src/frontend/logic/job-actions';

const names = (state: string) => actionsForState(state, 'j1').map((a) => a.action);

describe('job actions offered by state', () => {
  it.each([
    ['failed', ['retry', 'remove']],
    ['completed', ['retry', 'remove']],
    ['delayed', ['promote', 'remove']],
    ['waiting', ['remove']],
    ['active', []],
  ])('a %s job offers %p', (state, actions) => {
    expect(names(state)).toEqual(actions);
  });

  it('marks remove as dangerous and says it cannot be undone', () => {
    const remove = actionsForState('failed', 'j1').find((a) => a.action === 'remove')!;
    expect(remove.danger).toBe(true);
    expect(remove.confirm).toMatch(/cannot be recovered/);
  });

  it('asks before retrying all failed jobs, with the count', () => {
    expect(retryAllSpec('jobs', 12).confirm).toContain('all 12 failed job(s) in jobs');
  });

  it('maps actions to admin API calls with encoded ids', () => {
    expect(actionRequest('jobs', 'retry', 'a/b')).toEqual({ method: 'POST', path: '/api/admin/queues/jobs/jobs/a%2Fb/retry' });
    expect(actionRequest('jobs', 'remove', 'x')).toEqual({ method: 'DELETE', path: '/api/admin/queues/jobs/jobs/x' });
    expect(actionRequest('stripe-events', 'retry-all-failed')).toEqual({
      method: 'POST',
      path: '/api/admin/queues/stripe-events/retry-failed',
    });
  });
});

describe('pageSummary', () => {
  it('says which jobs a page shows and whether there are more', () => {
    expect(pageSummary(2, 20, 93)).toEqual({ label: 'Page 2 of 5 · 21–40 of 93', hasPrev: true, hasNext: true, pages: 5 });
    expect(pageSummary(5, 20, 93)).toMatchObject({ label: 'Page 5 of 5 · 81–93 of 93', hasNext: false });
  });

  it('handles empty lists and pages past the end', () => {
    expect(pageSummary(1, 20, 0)).toMatchObject({ label: 'No jobs', hasPrev: false, hasNext: false });
    expect(pageSummary(9, 20, 5).label).toBe('Page 9 is past the end (5 jobs)');
  });
});
