import { Banner, Button } from '@stripe/ui-extension-sdk/ui';
import type { BackendFailure, BackendFailureKind } from '../backend/backend-client';

const TITLES: Record<BackendFailureKind, string> = {
  'signed-out': 'Not connected',
  'not-found': 'Not found',
  rejected: 'hooklane could not verify this request',
  server: 'hooklane is unavailable',
  unreachable: 'Cannot reach hooklane',
  misconfigured: 'The app is not configured',
  unexpected: 'Something went wrong',
};

// Transient trouble is a caution; what needs an operator to fix config is critical.
const TRANSIENT = new Set<BackendFailureKind>(['server', 'unreachable']);

export function FailureBanner({ failure, onRetry }: { failure: BackendFailure; onRetry?: () => void }) {
  return (
    <Banner
      type={TRANSIENT.has(failure.kind) ? 'caution' : 'critical'}
      title={TITLES[failure.kind]}
      description={failure.message}
      actions={onRetry ? <Button onPress={onRetry}>Try again</Button> : undefined}
    />
  );
}
