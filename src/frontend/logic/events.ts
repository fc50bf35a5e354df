/**
 * The event index as the console shows it. The event API (GET /api/events, /api/events/:id, POST
 * /api/events/:id/replay) belongs to the webhook side; these readers accept its answers defensively so a
 * missing optional field shows as "—" instead of breaking the page.
 */
import { EVENT_STATUSES } from '../../events/event-record';
import type { EventQuery } from './routes';

/** Statuses an operator can filter on: the event index's own list. */
export { EVENT_STATUSES };

/** What the `superseded` badge means, as its title says it. */
export const SUPERSEDED_HINT = 'Not handled: a newer event of the same object had been processed already (final, not an error).';

export interface EventSummary {
  id: string;
  type: string;
  account: string | null;
  objectId: string | null;
  status: string;
  receivedAt: string | null;
  attempts: number | null;
  /** Why the latest run failed, or why the event was dead-lettered. */
  lastError: string | null;
}

export interface EventDetail extends EventSummary {
  /** When Stripe created the event. */
  created: string | null;
  /** How many times an operator replayed it. */
  replays: number;
  /** Where it came from: `webhook` (snapshot), `thin` (notification), `reconciled` (Stripe's Events API) or `replay`. */
  source: string;
  /** The thin notification's own id when it came as one (or when one was linked to it). */
  thinEventId: string | null;
  payload: unknown;
  /** The payload is no longer stored (by age or by the payload budget): nothing to show, no replay. */
  payloadExpired: boolean;
  /** The BullMQ job in the stripe-events queue that processes it now. */
  jobId: string | null;
}

export interface EventPage {
  events: EventSummary[];
  nextCursor: string | null;
}

export const EVENT_PAGE_SIZE = 25;

type Obj = Record<string, unknown>;
const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : null);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const obj = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
const iso = (v: unknown): string | null => {
  if (typeof v === 'number') return new Date(v > 1e12 ? v : v * 1000).toISOString();
  return str(v);
};

export function readEventSummary(raw: unknown): EventSummary {
  const e = obj(raw);
  return {
    id: str(e.id) ?? '',
    type: str(e.type) ?? '',
    account: str(e.account) ?? str(e.accountId),
    objectId: str(e.objectId),
    status: str(e.status) ?? 'unknown',
    receivedAt: iso(e.receivedAt ?? e.createdAt),
    attempts: num(e.attempts),
    lastError: str(e.lastError),
  };
}

/** The index keeps the raw body Stripe signed; show it as JSON when it parses. */
function readPayload(value: unknown): unknown {
  if (typeof value !== 'string') return value ?? null;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return value;
  }
}

export function readEventDetail(raw: unknown): EventDetail {
  const e = obj(raw);
  const lastError = str(e.lastError) ?? str(obj(e.lastError).message);
  return {
    ...readEventSummary(raw),
    created: iso(e.created),
    replays: num(e.replays) ?? 0,
    source: str(e.source) ?? 'webhook',
    thinEventId: str(e.thinEventId),
    payload: readPayload(e.payload ?? e.event),
    payloadExpired: e.payloadExpired === true,
    lastError,
    jobId: str(e.jobId),
  };
}

export function readEventPage(raw: unknown): EventPage {
  const page = obj(raw);
  const list = Array.isArray(raw) ? raw : Array.isArray(page.events) ? page.events : Array.isArray(page.items) ? page.items : [];
  return { events: list.map(readEventSummary), nextCursor: str(page.nextCursor) ?? str(page.cursor) };
}

/** The API query for a search: only filled filters, plus paging. */
export function eventSearchParams(query: EventQuery): Record<string, string | number> {
  const params: Record<string, string | number> = { limit: EVENT_PAGE_SIZE };
  if (query.type) params.type = query.type;
  if (query.account) params.account = query.account;
  if (query.objectId) params.objectId = query.objectId;
  if (query.status) params.status = query.status;
  if (query.cursor) params.cursor = query.cursor;
  return params;
}

export function hasFilters(query: EventQuery): boolean {
  return Boolean(query.type || query.account || query.objectId || query.status);
}
