/**
 * `lost` is the index sweep's verdict on a record whose job is gone and never finished: something lost an
 * accepted event. It must never happen; it is logged at error, counted and shown in the console.
 * `dead-lettered`: accepted, but no job could be made of it (IntakeMover); `lastError` says why.
 * `superseded`: final and not an error: its handler declared `skipIfSuperseded`, and an event of the same object
 * created after it had been processed already, so it was not handled (per-object ordering, docs/stripe.md#ordering).
 */
export const EVENT_STATUSES = ['queued', 'processing', 'succeeded', 'failed', 'ignored', 'superseded', 'lost', 'dead-lettered'] as const;
export type EventStatus = (typeof EVENT_STATUSES)[number];

/** What the index keeps about one accepted Stripe event (the payload is stored beside it). */
export interface EventRecord {
  id: string;
  type: string;
  /** The connected account the event is about (`event.account`), when there is one. */
  account: string | null;
  /** `data.object.id`: the object the event concerns (pi_..., cus_...). */
  objectId: string | null;
  /** When Stripe created the event. */
  created: string | null;
  /** When hooklane accepted it. */
  receivedAt: string;
  status: EventStatus;
  /** Attempt number of the latest processing run. */
  attempts: number;
  lastError: string | null;
  /** The BullMQ job that processes it now: the event id, or `${id}-replay-${n}` after a replay. */
  jobId: string;
  replays: number;
  /** Where it came from: a snapshot `webhook`, a `thin` notification, `reconciled` from Stripe's Events API, or a `replay`. */
  source: 'webhook' | 'thin' | 'reconciled' | 'replay';
  /** The thin notification of the same change (its own id), when one arrived. */
  thinEventId: string | null;
  /** The payload is no longer stored (dropped by age or by EVENT_PAYLOAD_MAX_MB): the event cannot be replayed. */
  payloadExpired: boolean;
}

/** The fields of an event the index needs, read defensively (a verified body can still be odd). */
export interface EventSummary {
  id: string;
  source?: EventRecord['source'];
  thinEventId?: string;
  type: string;
  account: string | null;
  objectId: string | null;
  /** Unix seconds, as Stripe sends it. */
  created: number | null;
}

const text = (value: unknown): string | null => (typeof value === 'string' && value.length > 0 ? value : null);

export function summariseEvent(event: { id: string; type: string; account?: unknown; created?: unknown; data?: unknown }): EventSummary {
  const object = (event.data as { object?: { id?: unknown } } | undefined)?.object;
  return {
    id: event.id,
    type: event.type,
    account: text(event.account),
    objectId: text(object?.id),
    created: typeof event.created === 'number' && Number.isFinite(event.created) ? event.created : null,
  };
}

export function isEventStatus(value: unknown): value is EventStatus {
  return typeof value === 'string' && (EVENT_STATUSES as readonly string[]).includes(value);
}

/**
 * A stripe-events job's data: the id of the event whose stored payload (the event index's, compressed) the
 * processor loads. The job never carries a copy of the payload (one copy in Redis, not two).
 */
export interface PayloadRef {
  payloadOf: string;
}

export function isPayloadRef(data: unknown): data is PayloadRef {
  return typeof (data as { payloadOf?: unknown } | null)?.payloadOf === 'string';
}
