import { randomBytes } from 'node:crypto';
import type Stripe from 'stripe';
import type { EmulatedRequest } from './stripe-emulator';
import { objectUrl } from '../stripe/stripe-object-url';
import { parameterInvalid, resourceMissing } from './stripe-emulator-errors';

/** A v2 event (`GET /v2/core/events/:id`) as Stripe returns it; the notification is the same minus `data`. */
export interface EmulatedThinEvent {
  id: string;
  object: 'v2.core.event';
  type: string;
  created: string;
  livemode: boolean;
  context?: string;
  related_object: { id: string; type: string; url: string } | null;
  snapshot_event?: string;
  changes?: Record<string, unknown>;
  data?: Record<string, unknown>;
  reason?: { type: 'request'; request: { id: string; idempotency_key: string } };
}

interface StoredEvent {
  event: Stripe.Event;
  /** `delivery_success`: false when Stripe failed (here: never tried) to deliver it to a destination. */
  delivered: boolean;
}

const LIST_LIMIT_MAX = 100;

const thinEventId = () => `evt_test_${randomBytes(12).toString('hex')}`;

/**
 * Stripe's event history as the emulator keeps it: snapshot events (`GET /v1/events`, `/v1/events/:id`,
 * newest first, 30 days in Stripe, unbounded here), the v2 events of thin notifications
 * (`GET /v2/core/events/:id`), and the objects they refer to (retrievable at their `related_object.url`).
 */
export class EventsEmulation {
  private readonly events = new Map<string, StoredEvent>();
  private readonly thinEvents = new Map<string, EmulatedThinEvent>();
  private readonly objects = new Map<string, Record<string, unknown>>();

  /** Records a snapshot event (and its object) as Stripe would have generated it. */
  add(event: Stripe.Event, options: { delivered?: boolean } = {}): Stripe.Event {
    this.events.set(event.id, { event, delivered: options.delivered ?? true });
    const object = (event.data as { object?: { id?: unknown; object?: unknown } } | undefined)?.object;
    if (object && typeof object.id === 'string' && typeof object.object === 'string') {
      this.objects.set(objectUrl({ id: object.id, object: object.object }), object as Record<string, unknown>);
    }
    return event;
  }

  /**
   * The thin side of `snapshot`: a `v1.<type>` v2 event whose `snapshot_event` is the snapshot's id.
   * Returns the notification Stripe would send (the v2 event without `data`).
   */
  addThinFor(snapshot: Stripe.Event, options: { delivered?: boolean } = {}): EmulatedThinEvent {
    this.add(snapshot, options);
    const object = (snapshot.data as { object?: { id?: string; object?: string } }).object;
    const related = object?.id && object.object ? { id: object.id, type: object.object, url: objectUrl({ id: object.id, object: object.object }) } : null;
    const previous = (snapshot.data as { previous_attributes?: Record<string, unknown> }).previous_attributes;
    return this.addThin({
      id: thinEventId(),
      object: 'v2.core.event',
      type: `v1.${snapshot.type}`,
      created: new Date(snapshot.created * 1000).toISOString(),
      livemode: snapshot.livemode,
      ...(snapshot.account ? { context: snapshot.account } : {}),
      related_object: related,
      snapshot_event: snapshot.id,
      ...(previous ? { changes: { previous_attributes: previous } } : {}),
    });
  }

  /** Records a v2 event as is (v2 types such as `v2.core.health.event_generation_failure.resolved`). */
  addThin(event: EmulatedThinEvent): EmulatedThinEvent {
    this.thinEvents.set(event.id, event);
    const { data: _data, ...notification } = event;
    return notification;
  }

  /**
   * Marks a recorded event delivered or not (`delivery_success`): Stripe gave up on a delivery after its
   * retries, so the event now lists under `delivery_success=false`. Returns false for an unknown id.
   */
  setDelivered(id: string, delivered: boolean): boolean {
    const stored = this.events.get(id);
    if (!stored) return false;
    stored.delivered = delivered;
    return true;
  }

  /** Makes an object retrievable at its URL (what `fetchRelatedObject()` asks for). */
  putObject(object: { id: string; object: string } & Record<string, unknown>): void {
    this.objects.set(objectUrl(object), object);
  }

  retrieve({ params }: EmulatedRequest, id: string): Stripe.Event {
    const stored = this.events.get(id);
    if (!stored) throw resourceMissing(`No such event: '${id}'`, 'id');
    void params;
    return stored.event;
  }

  retrieveThin(id: string): EmulatedThinEvent {
    const event = this.thinEvents.get(id);
    if (!event) throw resourceMissing(`No such event: '${id}'`, 'id');
    return event;
  }

  /** The object at `path` (`/v1/customers/cus_...`), or undefined when none is known there. */
  objectAt(path: string): Record<string, unknown> | undefined {
    return this.objects.get(path);
  }

  /** `GET /v1/events`: newest first, `created` range, `type`, `delivery_success`, cursor pagination. */
  list({ params }: EmulatedRequest): Record<string, unknown> {
    const limit = params.limit === undefined ? 10 : Number(params.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > LIST_LIMIT_MAX) {
      throw parameterInvalid('limit', `Invalid integer: ${String(params.limit)}. This value must be between 1 and ${LIST_LIMIT_MAX}.`);
    }
    let rows = [...this.events.values()].filter((stored) => matches(stored, params)).map((s) => s.event);
    // Newest first; ties (same second) in the reverse order of creation, as ids are generated.
    const order = new Map([...this.events.keys()].map((id, i) => [id, i]));
    rows.sort((a, b) => b.created - a.created || order.get(b.id)! - order.get(a.id)!);
    const after = typeof params.starting_after === 'string' ? params.starting_after : undefined;
    const before = typeof params.ending_before === 'string' ? params.ending_before : undefined;
    let hasMore: boolean;
    if (before) {
      const at = cursorIndex(rows, before, 'ending_before');
      const start = Math.max(0, at - limit);
      hasMore = start > 0;
      rows = rows.slice(start, at);
    } else {
      const from = after ? cursorIndex(rows, after, 'starting_after') + 1 : 0;
      hasMore = rows.length > from + limit;
      rows = rows.slice(from, from + limit);
    }
    return { object: 'list', data: rows, has_more: hasMore, url: '/v1/events' };
  }
}

function cursorIndex(rows: Stripe.Event[], id: string, param: string): number {
  const at = rows.findIndex((e) => e.id === id);
  if (at < 0) throw resourceMissing(`No such event: '${id}'`, param);
  return at;
}

function matches({ event, delivered }: StoredEvent, params: Record<string, unknown>): boolean {
  if (params.delivery_success !== undefined && String(params.delivery_success) !== String(delivered)) return false;
  if (typeof params.type === 'string' && !typeMatches(event.type, params.type)) return false;
  const created = params.created;
  if (typeof created === 'string' || typeof created === 'number') return event.created === Number(created);
  if (created && typeof created === 'object') {
    const range = created as Record<string, unknown>;
    const bound = (key: string) => (range[key] === undefined ? undefined : Number(range[key]));
    const [gt, gte, lt, lte] = [bound('gt'), bound('gte'), bound('lt'), bound('lte')];
    if (gt !== undefined && !(event.created > gt)) return false;
    if (gte !== undefined && !(event.created >= gte)) return false;
    if (lt !== undefined && !(event.created < lt)) return false;
    if (lte !== undefined && !(event.created <= lte)) return false;
  }
  return true;
}

/** Stripe's `type` filter takes one `*` wildcard (`customer.*`). */
function typeMatches(type: string, filter: string): boolean {
  if (!filter.includes('*')) return type === filter;
  const [head, tail] = filter.split('*') as [string, string];
  return type.startsWith(head) && type.endsWith(tail);
}
