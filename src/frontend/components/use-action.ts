import { useState } from 'preact/hooks';
import type { ActionResult } from '../../admin/admin-types';
import { ApiError, networkError, type ApiClient } from '../logic/api-client';
import { actionRequest, type ActionSpec } from '../logic/job-actions';

export interface ActionOutcome {
  ok: boolean;
  message: string;
  error?: ApiError;
}

/** A confirm-then-run flow for one admin action at a time. */
export function useAction(api: ApiClient, queue: string, onDone: (spec: ActionSpec, result: ActionResult) => void) {
  const [pending, setPending] = useState<{ spec: ActionSpec; jobId?: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<ActionOutcome | null>(null);

  const run = async () => {
    if (!pending) return;
    const { spec, jobId } = pending;
    const request = actionRequest(queue, spec.action, jobId);
    setBusy(true);
    try {
      const result =
        request.method === 'DELETE' ? await api.del<ActionResult>(request.path) : await api.post<ActionResult>(request.path);
      const counted = result.count !== undefined ? ` (${result.count} job(s))` : '';
      setOutcome({ ok: true, message: `${spec.done}${counted}` });
      onDone(spec, result);
    } catch (err) {
      const error = err instanceof ApiError ? err : networkError(err);
      setOutcome({ ok: false, message: `${spec.label} failed: ${error.message}`, error });
    } finally {
      setBusy(false);
      setPending(null);
    }
  };

  return {
    pending,
    busy,
    outcome,
    ask: (spec: ActionSpec, jobId?: string) => {
      setOutcome(null);
      setPending(jobId === undefined ? { spec } : { spec, jobId });
    },
    cancel: () => setPending(null),
    confirm: () => void run(),
  };
}

export type Action = ReturnType<typeof useAction>;
