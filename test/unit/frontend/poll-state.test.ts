import { ApiError } from '../../../src/frontend/logic/api-client';
import { initialPollState, isStale, pollReducer } from '../../../src/frontend/logic/poll-state';

const failure = new ApiError('unavailable', 'Redis did not answer', 503, 'REDIS_UNAVAILABLE');

describe('pollReducer', () => {
  it('starts loading with nothing to show', () => {
    expect(initialPollState()).toEqual({ data: null, error: null, loading: true, updatedAt: null });
  });

  it('shows data when it arrives and clears an earlier error', () => {
    const failed = pollReducer(initialPollState<number>(), { type: 'failure', error: failure });
    const next = pollReducer(failed, { type: 'success', data: 7, at: 1000 });
    expect(next).toEqual({ data: 7, error: null, loading: false, updatedAt: 1000 });
  });

  it('keeps the last data when a refresh fails, and marks it stale', () => {
    const ok = pollReducer(initialPollState<number>(), { type: 'success', data: 7, at: 1000 });
    const failed = pollReducer(ok, { type: 'failure', error: failure });
    expect(failed).toEqual({ data: 7, error: failure, loading: false, updatedAt: 1000 });
    expect(isStale(failed)).toBe(true);
    expect(isStale(ok)).toBe(false);
  });

  it('on a first failure, stops loading and has no data (the view shows the error)', () => {
    const failed = pollReducer(initialPollState<number>(), { type: 'failure', error: failure });
    expect(failed.loading).toBe(false);
    expect(failed.data).toBeNull();
    expect(isStale(failed)).toBe(false);
  });

  it('starts over on reset (a new query)', () => {
    const ok = pollReducer(initialPollState<number>(), { type: 'success', data: 7, at: 1000 });
    expect(pollReducer(ok, { type: 'reset' })).toEqual(initialPollState());
  });
});
