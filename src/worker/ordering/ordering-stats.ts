import type { Redis } from 'ioredis';
import { orderingBase } from './object-order';

/**
 * Counts of what per-object ordering did, kept in Redis by its scripts (no extra round trip), summed over
 * every worker since the keys were made:
 * - `superseded`: events recorded `superseded` (a handler with skipIfSuperseded, a newer event done already);
 * - `outOfOrder`: events that got their lease after a newer event of the object was processed (superseded
 *   ones included; the others ran with `ctx.outOfOrder`);
 * - `leaseWaits`: times a job found its object's lease taken, or an older event waiting, and stepped aside.
 * Metrics exporters read them as counters (cluster-wide totals: the same value from every process).
 */
export interface OrderingStats {
  superseded: number;
  outOfOrder: number;
  leaseWaits: number;
}

export const ORDERING_STAT_NAMES = ['superseded', 'outOfOrder', 'leaseWaits'] as const satisfies readonly (keyof OrderingStats)[];

export async function readOrderingStats(redis: Redis, queuePrefix: string): Promise<OrderingStats> {
  const values = await redis.hmget(`${orderingBase(queuePrefix)}:stats`, ...ORDERING_STAT_NAMES);
  const [superseded, outOfOrder, leaseWaits] = values.map((v) => Number(v ?? 0));
  return { superseded: superseded!, outOfOrder: outOfOrder!, leaseWaits: leaseWaits! };
}
