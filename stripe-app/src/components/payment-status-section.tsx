import { Badge, Box, Button, List, ListItem } from '@stripe/ui-extension-sdk/ui';
import type { EventStatus, PaymentEvent } from '../backend/api-types';
import type { Backend } from '../backend/use-backend';
import { formatTime } from '../payments/format-time';
import { usePaymentStatus } from '../payments/use-payment-status';
import { FailureBanner } from './failure-banner';
import { Loading } from './loading';

type BadgeType = 'neutral' | 'urgent' | 'warning' | 'negative' | 'positive' | 'info';

const BADGES: Record<EventStatus, BadgeType> = {
  queued: 'info',
  processing: 'info',
  succeeded: 'positive',
  failed: 'negative',
  ignored: 'neutral',
  lost: 'urgent',
};

/** How hooklane processed the webhook events about this payment. */
export function PaymentStatusSection({ backend, paymentIntentId }: { backend: Backend; paymentIntentId?: string }) {
  const { state, reload } = usePaymentStatus(backend, paymentIntentId);
  return (
    <Box css={{ stack: 'y', gap: 'small' }}>
      <Box css={{ stack: 'x', distribute: 'space-between', alignY: 'center' }}>
        <Box css={{ font: 'heading' }}>Webhook processing</Box>
        <Button size="small" onPress={reload} disabled={state.name === 'loading'}>Refresh</Button>
      </Box>
      {state.name === 'loading' && <Loading label="Loading this payment's events…" />}
      {state.name === 'error' && <FailureBanner failure={state.failure} onRetry={reload} />}
      {(state.name === 'no-events' || (state.name === 'loaded' && state.status.events.length === 0)) && (
        <Box css={{ color: 'secondary' }}>hooklane has not received any events for this payment yet.</Box>
      )}
      {state.name === 'not-a-payment-intent' && (
        <Box css={{ color: 'secondary' }}>hooklane follows payments by PaymentIntent, and {state.objectId} is not one.</Box>
      )}
      {state.name === 'loaded' && state.status.events.length > 0 && (
        <List>
          {state.status.events.map((event) => <EventItem key={event.id} event={event} />)}
        </List>
      )}
    </Box>
  );
}

function EventItem({ event }: { event: PaymentEvent }) {
  const attempts = `${event.attempts} attempt${event.attempts === 1 ? '' : 's'}`;
  const details = [`Received ${formatTime(event.receivedAt)}`, attempts, event.lastError].filter(Boolean).join(' · ');
  return (
    <ListItem
      id={event.id}
      title={event.type}
      secondaryTitle={details}
      value={<Badge type={BADGES[event.status] ?? 'neutral'}>{event.status}</Badge>}
    />
  );
}
