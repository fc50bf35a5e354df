/** What the run learns about the event's place in its object's order. */
export interface OrderPlace {
  /** An event of the same object created after this one was processed already. */
  outOfOrder: boolean;
  /** The object's lease this run holds; `fence` grows with every grant, so a write carrying it can refuse a stale one. */
  lease: { objectId: string; fence: number } | null;
}

export const UNORDERED: OrderPlace = { outOfOrder: false, lease: null };

/**
 * The lease is decided in the worker's main thread and the handler runs in the sandbox: the place travels with
 * the job's data as the sandbox receives it (only there: Redis keeps the data as the mover queued it).
 */
const PLACE_KEY = 'orderPlace';

/** The job's data as the processor gets it: the queued data with the place beside it. */
export function dataWithPlace(data: unknown, place: OrderPlace): Record<string, unknown> {
  return { ...(data as Record<string, unknown>), [PLACE_KEY]: place };
}

/** The place the main thread decided (UNORDERED when none), and the job's data as it was queued. */
export function takePlace(data: unknown): { place: OrderPlace; data: unknown } {
  const d = data as Record<string, unknown> | null;
  if (!d || typeof d !== 'object' || !(PLACE_KEY in d)) return { place: UNORDERED, data };
  const { [PLACE_KEY]: place, ...queued } = d;
  return { place: place as OrderPlace, data: queued };
}
