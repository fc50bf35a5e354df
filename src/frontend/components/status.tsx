import type { ComponentChildren } from 'preact';
import { adviceFor, headlineFor, type ApiError } from '../logic/api-client';

/** A loading placeholder that takes the space the content will take, so nothing jumps when it arrives. */
export function Loading({ what, minHeight = 'medium' }: { what: string; minHeight?: 'small' | 'medium' | 'large' }) {
  return (
    <div class={`status status-loading reserve-${minHeight}`} role="status" aria-live="polite">
      Loading {what}…
    </div>
  );
}

export function ErrorPanel({ error, onRetry }: { error: ApiError; onRetry?: () => void }) {
  return (
    <div class="status status-error" role="alert" data-testid="error-panel">
      <p class="status-title">{headlineFor(error)}</p>
      <p>{adviceFor(error)}</p>
      {onRetry && (
        <button type="button" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function Empty({ title, children }: { title: string; children?: ComponentChildren }) {
  return (
    <div class="status status-empty" data-testid="empty-state">
      <p class="status-title">{title}</p>
      {children}
    </div>
  );
}

/**
 * Says the data on screen is stale (the last refresh failed) and what to do. It floats over the page
 * instead of taking space, so it appears and goes without moving anything; the live region stays in the
 * DOM so screen readers hear it.
 */
export function StaleNotice({ error }: { error: ApiError | null }) {
  return (
    <p class={`stale-notice ${error ? 'is-visible' : ''}`} role="status" aria-live="polite" data-testid="stale-notice">
      {error ? `Not updating: ${headlineFor(error)} ${adviceFor(error)}` : ''}
    </p>
  );
}
