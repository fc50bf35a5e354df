import type { ApiError } from './api-client';

/**
 * State of data the console keeps fresh. Last good data stays on screen while a refresh fails (with the
 * error beside it), so a Redis hiccup does not blank the page or move anything around.
 */
export interface PollState<T> {
  data: T | null;
  error: ApiError | null;
  /** True until the first answer (data or error) arrives. */
  loading: boolean;
  /** When data last arrived, epoch ms. */
  updatedAt: number | null;
}

export type PollAction<T> =
  | { type: 'reset' }
  | { type: 'success'; data: T; at: number }
  | { type: 'failure'; error: ApiError };

export function initialPollState<T>(): PollState<T> {
  return { data: null, error: null, loading: true, updatedAt: null };
}

export function pollReducer<T>(state: PollState<T>, action: PollAction<T>): PollState<T> {
  switch (action.type) {
    case 'reset':
      return initialPollState<T>();
    case 'success':
      return { data: action.data, error: null, loading: false, updatedAt: action.at };
    case 'failure':
      return { ...state, error: action.error, loading: false };
  }
}

/** Data shown while the last refresh failed is stale; the view says so. */
export function isStale<T>(state: PollState<T>): boolean {
  return state.data !== null && state.error !== null;
}
