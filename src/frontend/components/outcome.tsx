import { adviceFor } from '../logic/api-client';
import type { ActionOutcome } from './use-action';

/** The result of the last action, announced to screen readers; its line is always reserved. */
export function OutcomeMessage({ outcome }: { outcome: ActionOutcome | null }) {
  return (
    <p
      class={`outcome ${outcome ? (outcome.ok ? 'outcome-ok' : 'outcome-error') : ''}`}
      role="status"
      aria-live="polite"
      data-testid="action-outcome"
    >
      {outcome ? `${outcome.message}${outcome.error ? ` ${adviceFor(outcome.error)}` : ''}` : ' '}
    </p>
  );
}
