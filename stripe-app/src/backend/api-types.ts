/** The connected third-party user, from GET /api/oauth/userinfo. */
export interface UserInfo {
  sub: string;
  email?: string;
  email_verified?: boolean;
  name?: string;
}

// `lost`: hooklane's index sweep found the event's job gone and never finished (an alarm on hooklane's side).
export type EventStatus = 'queued' | 'processing' | 'succeeded' | 'failed' | 'ignored' | 'lost';

/** One Stripe event about a payment, as hooklane's event index records it. */
export interface PaymentEvent {
  id: string;
  type: string;
  status: EventStatus;
  attempts: number;
  lastError: string | null;
  created: number | string;
  receivedAt: number | string;
}

/** GET /api/app/payments/:paymentIntentId/status */
export interface PaymentStatus {
  paymentIntentId: string;
  events: PaymentEvent[];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function isUserInfo(value: unknown): value is UserInfo {
  return isRecord(value) && typeof value.sub === 'string';
}

function isPaymentEvent(value: unknown): value is PaymentEvent {
  return isRecord(value) && typeof value.id === 'string' && typeof value.type === 'string'
    && typeof value.status === 'string';
}

export function isPaymentStatus(value: unknown): value is PaymentStatus {
  return isRecord(value) && typeof value.paymentIntentId === 'string'
    && Array.isArray(value.events) && value.events.every(isPaymentEvent);
}
