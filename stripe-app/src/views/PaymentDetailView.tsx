import type { ExtensionContextValue } from '@stripe/ui-extension-sdk/context';
import { HooklaneView } from '../components/hooklane-view';
import { PaymentStatusSection } from '../components/payment-status-section';

/** stripe.dashboard.payment.detail: the connection, and how hooklane processed this payment's events. */
const PaymentDetailView = (context: ExtensionContextValue) => (
  <HooklaneView
    context={context}
    title="hooklane"
    signedInContent={(backend) => (
      <PaymentStatusSection backend={backend} paymentIntentId={context.environment.objectContext?.id} />
    )}
  />
);

export default PaymentDetailView;
