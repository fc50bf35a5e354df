import type { HealthAlert } from '../../events/health-alerts';
import { defineV2Handler } from './handler-registry';

const text = (value: unknown): string | null => (typeof value === 'string' && value.length > 0 ? value : null);

/**
 * Stripe failed to generate some events (they will never be delivered, nor listed for reconciliation) and
 * has since fixed what caused it. Nothing can fetch those events: what is left is to re-fetch the objects
 * they were about. Logged at error level and recorded for the console, with what to re-fetch.
 */
export const eventGenerationFailureResolved = defineV2Handler('v2.core.health.event_generation_failure.resolved', async (event, ctx) => {
  const data = (event.data ?? {}) as Record<string, unknown>;
  const impact = (data.impact ?? {}) as { event_type?: unknown; related_object?: { id?: unknown; type?: unknown; url?: unknown } };
  const related = impact.related_object ?? event.related_object ?? null;
  const alert: HealthAlert = {
    eventId: event.id,
    alertId: text(data.alert_id),
    summary: text(data.summary),
    severity: text(data.severity),
    resolvedAt: text(data.resolved_at),
    eventType: text(impact.event_type),
    refetch: related ? { id: text(related.id), type: text(related.type), url: text(related.url) } : null,
    receivedAt: new Date().toISOString(),
  };
  ctx.logger.error({ alert }, 'Stripe failed to generate events; re-fetch the objects they were about');
  await ctx.services.recordHealthAlert(alert);
  await ctx.log(`events Stripe failed to generate${alert.eventType ? ` (${alert.eventType})` : ''}; re-fetch ${alert.refetch?.url ?? 'the affected objects'}`);
  return { alert: alert.alertId, refetch: alert.refetch };
});
