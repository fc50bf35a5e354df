/**
 * A readable UTC time for a timestamp from the event index. Stripe's own `created`
 * is in seconds; times hooklane records may be milliseconds or ISO strings.
 */
export function formatTime(value: number | string): string {
  const date = typeof value === 'number' ? new Date(value < 1e12 ? value * 1000 : value) : new Date(value);
  if (Number.isNaN(date.getTime())) return String(value);
  return `${date.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}
