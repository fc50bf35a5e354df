import type { Redis } from 'ioredis';

/**
 * A `v2.core.health.event_generation_failure.resolved` Stripe sent: events Stripe failed to generate (they
 * will never be delivered nor listed), and what to re-fetch to learn the state they would have carried.
 */
export interface HealthAlert {
  /** The v2 event's id. */
  eventId: string;
  alertId: string | null;
  summary: string | null;
  severity: string | null;
  resolvedAt: string | null;
  /** The event type that was not generated. */
  eventType: string | null;
  /** The object whose events are missing: re-fetch it (`GET url`) to see its current state. */
  refetch: { id: string | null; type: string | null; url: string | null } | null;
  receivedAt: string;
}

// The console shows the latest; older ones stay in the logs (each is logged at error level).
const KEPT = 100;

export const healthAlertsKey = (prefix: string) => `${prefix}:health-alerts`;

export async function recordHealthAlert(redis: Redis, prefix: string, alert: HealthAlert): Promise<void> {
  await redis.multi().lpush(healthAlertsKey(prefix), JSON.stringify(alert)).ltrim(healthAlertsKey(prefix), 0, KEPT - 1).exec();
}

export async function latestHealthAlerts(redis: Redis, prefix: string, count = 10): Promise<HealthAlert[]> {
  const raw = await redis.lrange(healthAlertsKey(prefix), 0, count - 1);
  return raw.map((line) => JSON.parse(line) as HealthAlert);
}
