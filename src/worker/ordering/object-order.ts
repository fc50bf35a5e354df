import type { Redis } from 'ioredis';
import type { PayloadRef } from '../../events/event-record';
import { ACQUIRE_SCRIPT, REGISTER_SCRIPT, RELEASE_SCRIPT, RENEW_SCRIPT } from './object-order-scripts';

/** Where one event stands in its object's order: the object, Stripe's `created` (unix seconds), its own id. */
export interface OrderedEvent {
  objectId: string;
  created: number;
  eventId: string;
  jobId: string;
}

export type Grant =
  | { granted: true; fence: number; outOfOrder: boolean; othersWaiting: number }
  /**
   * `older`: older events of the object wait, `place` of them (1: this one is next); `held`: this one is first
   * in line but another run (a stalled copy of it, or a holder whose entry was dropped) holds the lease.
   */
  | { granted: false; reason: 'older' | 'held'; place: number };

/**
 * A lease granted when the event was queued, to an event alone on its object: its job carries it and runs
 * without an acquire. It lasts while the job waits, then while BullMQ's lock on the job is held (object-order-scripts.ts).
 */
export interface QueueTimeGrant {
  fence: number;
  outOfOrder: boolean;
}

/**
 * What a stripe-events job carries for ordering beside its payload reference (the intake mover sets it), so the
 * lease is decided before the payload is read: the event's place, and a queue-time grant when it had one.
 */
export interface OrderedRef {
  order?: Omit<OrderedEvent, 'jobId'>;
  grant?: QueueTimeGrant;
}

export type ReleaseOutcome = 'done' | 'superseded' | 'failed' | 'retry';

export interface ObjectOrderOptions {
  /** Keys live under `${base}:obj:*`, `${base}:wait:*` and `${base}:stats`. */
  base: string;
  /** The BullMQ key prefix of the queue's jobs (`${prefix}:${queue}:`), to tell a waiting entry whose job is gone. */
  jobKeyPrefix: string;
  /** How long a lease lasts without renewal: the bound on how long a dead holder keeps its object. */
  leaseMs: number;
  /** How long an object's keys outlive their last write: it must cover Stripe's retries (3 days). */
  ttlSeconds: number;
}

type OrderRedis = Redis & {
  hooklaneOrderRegister(...args: (string | number)[]): Promise<[number, number][]>;
  hooklaneOrderAcquire(...args: (string | number)[]): Promise<[number, number | string, number | string, number?]>;
  hooklaneOrderRenew(...args: (string | number)[]): Promise<number>;
  hooklaneOrderRelease(...args: (string | number)[]): Promise<[number, string]>;
};

/** A waiting set's member: the event id first (ties on `created` sort by it), then the job that carries it. */
export const memberOf = (event: Pick<OrderedEvent, 'eventId' | 'jobId'>) => `${event.eventId} ${event.jobId}`;

/**
 * Per-object leases with fencing, granted oldest event first. Every call is one script and one round trip.
 */
export class ObjectOrder {
  private readonly redis: OrderRedis;

  constructor(redis: Redis, readonly options: ObjectOrderOptions) {
    if (!('hooklaneOrderAcquire' in redis)) {
      redis.defineCommand('hooklaneOrderRegister', { numberOfKeys: 0, lua: REGISTER_SCRIPT });
      redis.defineCommand('hooklaneOrderAcquire', { numberOfKeys: 0, lua: ACQUIRE_SCRIPT });
      redis.defineCommand('hooklaneOrderRenew', { numberOfKeys: 0, lua: RENEW_SCRIPT });
      redis.defineCommand('hooklaneOrderRelease', { numberOfKeys: 0, lua: RELEASE_SCRIPT });
    }
    this.redis = redis as OrderRedis;
  }

  /**
   * Puts queued events in their objects' waiting sets (the intake mover, one call per batch) and grants the
   * lease at queue time to those alone on their objects: one entry per event, the grant or undefined.
   */
  async register(events: readonly OrderedEvent[]): Promise<(QueueTimeGrant | undefined)[]> {
    if (events.length === 0) return [];
    const { base, ttlSeconds, jobKeyPrefix, leaseMs } = this.options;
    const args: (string | number)[] = [base, ttlSeconds, jobKeyPrefix, leaseMs];
    for (const event of events) args.push(event.objectId, event.created, memberOf(event));
    const grants = await this.redis.hooklaneOrderRegister(...args);
    return grants.map(([fence, outOfOrder]) => (fence > 0 ? { fence, outOfOrder: outOfOrder === 1 } : undefined));
  }

  async acquire(event: OrderedEvent): Promise<Grant> {
    const { base, leaseMs, jobKeyPrefix, ttlSeconds } = this.options;
    const [ok, a, b, waiting] = await this.redis.hooklaneOrderAcquire(base, event.objectId, memberOf(event), event.created, leaseMs, jobKeyPrefix, ttlSeconds);
    if (ok === 1) return { granted: true, fence: Number(a), outOfOrder: Number(b) === 1, othersWaiting: Number(waiting ?? 0) };
    return { granted: false, reason: a === 'held' ? 'held' : 'older', place: Number(b) };
  }

  /** Resolves false when the lease is no longer this run's (it expired and was granted again). */
  async renew(event: OrderedEvent, fence: number): Promise<boolean> {
    const { base, leaseMs } = this.options;
    return (await this.redis.hooklaneOrderRenew(base, event.objectId, memberOf(event), fence, leaseMs)) === 1;
  }

  /** Frees the lease; resolves to whether this run still held it, and the job now first in line ('' if none). */
  async release(event: OrderedEvent, fence: number, outcome: ReleaseOutcome): Promise<{ held: boolean; next: string }> {
    const [held, next] = await this.redis.hooklaneOrderRelease(this.options.base, event.objectId, memberOf(event), fence, outcome, event.created);
    return { held: held === 1, next };
  }
}

/**
 * The job data of a batch of queued events (the intake mover's, one register call): each refers to its stored
 * payload and, when ordered (`place`), carries its place in its object's order and any queue-time grant, so the
 * worker decides the lease before it reads the payload.
 */
export async function orderedRefs(
  order: Pick<ObjectOrder, 'register'> | undefined,
  events: readonly { id: string; place: OrderedEvent | undefined }[],
): Promise<(PayloadRef & OrderedRef)[]> {
  const ordered = events.flatMap(({ place }) => (place ? [place] : []));
  const grants = order && ordered.length ? await order.register(ordered) : [];
  let k = 0;
  return events.map(({ id, place }) => {
    if (!order || !place) return { payloadOf: id };
    const grant = grants[k++];
    return { payloadOf: id, order: { objectId: place.objectId, created: place.created, eventId: place.eventId }, ...(grant ? { grant } : {}) };
  });
}

/** The base of the ordering keys: beside the queue's own keys (see object-order-scripts.ts). */
export const orderingBase = (prefix: string) => `${prefix}:ordering`;

/**
 * Where a stripe-events job's data puts it in an object's order, or undefined when it has no object or no
 * creation time (then it is not ordered). The event id is the one the index records it under: a thin `v1.*`
 * notification stands for its snapshot event.
 */
export function orderedEventOf(data: unknown, jobId: string): OrderedEvent | undefined {
  const d = data as Record<string, unknown> | null;
  if (!d || typeof d.id !== 'string') return undefined;
  if (d.object === 'v2.core.event') {
    const related = d.related_object as { id?: unknown } | null | undefined;
    const created = typeof d.created === 'string' ? Date.parse(d.created) : NaN;
    const eventId = typeof d.snapshot_event === 'string' ? d.snapshot_event : d.id;
    if (typeof related?.id !== 'string' || !related.id || !Number.isFinite(created)) return undefined;
    return { objectId: related.id, created: Math.floor(created / 1000), eventId, jobId };
  }
  const object = (d.data as { object?: { id?: unknown } } | undefined)?.object;
  if (typeof object?.id !== 'string' || !object.id || typeof d.created !== 'number' || !Number.isFinite(d.created)) return undefined;
  return { objectId: object.id, created: d.created, eventId: d.id, jobId };
}

/** The event's type as its job carries it (what picks its handler). */
export const eventTypeOf = (data: unknown): string | undefined => {
  const type = (data as { type?: unknown } | null)?.type;
  return typeof type === 'string' ? type : undefined;
};
