import { useEffect, useReducer, useRef } from 'preact/hooks';
import { ApiError, networkError } from '../logic/api-client';
import { initialPollState, pollReducer, type PollAction, type PollState } from '../logic/poll-state';

/** The console refreshes live views at most this often. */
export const POLL_INTERVAL_MS = 2000;

/**
 * Loads `load()` now and again `intervalMs` after each answer (never two in flight), pauses while the tab
 * is hidden, and restarts when `key` changes. `intervalMs` 0 loads once. `refresh()` reloads at once.
 */
export function usePoll<T>(
  load: () => Promise<T>,
  key: string,
  intervalMs = POLL_INTERVAL_MS,
): PollState<T> & { refresh: () => void } {
  const [state, dispatch] = useReducer<PollState<T>, PollAction<T>>(pollReducer, initialPollState<T>());
  const loadRef = useRef(load);
  loadRef.current = load;
  const refreshRef = useRef<() => void>(() => {});

  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let inFlight = false;
    dispatch({ type: 'reset' });

    const tick = async () => {
      clearTimeout(timer);
      if (stopped || inFlight) return;
      inFlight = true;
      try {
        const data = await loadRef.current();
        if (!stopped) dispatch({ type: 'success', data, at: Date.now() });
      } catch (err) {
        if (!stopped) dispatch({ type: 'failure', error: err instanceof ApiError ? err : networkError(err) });
      } finally {
        inFlight = false;
      }
      if (!stopped && intervalMs > 0 && !document.hidden) timer = setTimeout(() => void tick(), intervalMs);
    };
    const onVisibility = () => {
      if (!document.hidden) void tick();
    };
    refreshRef.current = () => void tick();
    document.addEventListener('visibilitychange', onVisibility);
    void tick();
    return () => {
      stopped = true;
      clearTimeout(timer);
      document.removeEventListener('visibilitychange', onVisibility);
    };
  }, [key, intervalMs]);

  return { ...state, refresh: () => refreshRef.current() };
}
