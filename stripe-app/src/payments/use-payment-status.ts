import { useCallback, useEffect, useState } from 'react';
import { isPaymentStatus, type PaymentStatus } from '../backend/api-types';
import type { BackendFailure } from '../backend/backend-client';
import type { Backend } from '../backend/use-backend';

export type PaymentStatusState =
  | { name: 'loading' }
  | { name: 'loaded'; status: PaymentStatus }
  | { name: 'no-events' }
  | { name: 'not-a-payment-intent'; objectId: string }
  | { name: 'error'; failure: BackendFailure };

/** This payment's processing status from hooklane's event index. */
export function usePaymentStatus(
  backend: Backend,
  paymentIntentId: string | undefined,
): { state: PaymentStatusState; reload: () => void } {
  const [state, setState] = useState<PaymentStatusState>({ name: 'loading' });
  const [generation, setGeneration] = useState(0);

  useEffect(() => {
    if (!paymentIntentId) {
      setState({ name: 'error', failure: { kind: 'misconfigured', message: 'This page shows no payment.' } });
      return undefined;
    }
    // The event index keys payments by PaymentIntent; a legacy charge-only payment has none.
    if (!paymentIntentId.startsWith('pi_')) {
      setState({ name: 'not-a-payment-intent', objectId: paymentIntentId });
      return undefined;
    }
    const controller = new AbortController();
    setState({ name: 'loading' });
    const path = `/api/app/payments/${encodeURIComponent(paymentIntentId)}/status`;
    void backend.call(path, { read: isPaymentStatus, signal: controller.signal }).then((result) => {
      if (controller.signal.aborted) return;
      if (result.ok) setState({ name: 'loaded', status: result.data });
      else if (result.failure.kind === 'not-found') setState({ name: 'no-events' });
      else setState({ name: 'error', failure: result.failure });
    });
    return () => controller.abort();
  }, [backend, paymentIntentId, generation]);

  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  return { state, reload };
}
