const MINUTE = 60_000;

/** What `queue.getMetrics(type, 0, n)` returns. */
export interface BullMetrics {
  meta: { count: number; prevTS: number; prevCount: number };
  /** Closed minutes, newest first; data[0] is the minute before the one `prevTS` falls in. */
  data: number[];
}

/**
 * Turns BullMQ's metrics into `minutes` per-minute counts ending with the current minute, oldest first.
 *
 * BullMQ only writes a data point when a job finishes in a new minute, so the list can be stale: the
 * minute `prevTS` falls in is still open (its count is `count - prevCount`), and every minute after it
 * saw no job at all. Reading the list as "ends now" would shift the chart by the idle time.
 */
export function perMinuteCounts(metrics: BullMetrics, nowMs: number, minutes = 60): number[] {
  const series = new Array<number>(minutes).fill(0);
  const { meta, data } = metrics;
  if (!meta.prevTS) return series;
  const nowMinute = Math.floor(nowMs / MINUTE);
  const openMinute = Math.floor(meta.prevTS / MINUTE);
  const place = (minute: number, count: number) => {
    const index = minutes - 1 - (nowMinute - minute);
    if (index >= 0 && index < minutes) series[index] = count;
  };
  place(openMinute, Math.max(0, meta.count - meta.prevCount));
  data.forEach((count, i) => place(openMinute - 1 - i, count));
  return series;
}

/** Epoch ms of the first minute of a `minutes`-long series ending with the current minute. */
export function seriesStart(nowMs: number, minutes = 60): number {
  return (Math.floor(nowMs / MINUTE) - (minutes - 1)) * MINUTE;
}
