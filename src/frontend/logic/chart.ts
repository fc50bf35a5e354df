import type { Throughput } from '../../admin/admin-types';

export interface ChartBar {
  /** Start of the minute, epoch ms. */
  minute: number;
  completed: number;
  failed: number;
  x: number;
  width: number;
  /** Completed stacks from the bottom, failed on top of it; heights in view-box units. */
  completedY: number;
  completedHeight: number;
  failedY: number;
  failedHeight: number;
}

export interface ThroughputChartModel {
  bars: ChartBar[];
  /** The value the top of the chart stands for (never 0, so an idle hour draws flat bars). */
  scaleMax: number;
  totalCompleted: number;
  totalFailed: number;
  /** Completed per minute over the whole window. */
  completedPerMinute: number;
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

/** A "nice" top of scale (1, 2, 5 × 10^n) so the axis label reads well and bars do not jump on every poll. */
export function niceCeiling(value: number): number {
  if (value <= 1) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  const step = [1, 2, 5, 10].find((s) => s * magnitude >= value) ?? 10;
  return step * magnitude;
}

/** Lays out one stacked bar per minute in a `width` × `height` view box. */
export function throughputChart(t: Throughput, width: number, height: number): ThroughputChartModel {
  const minutes = Math.max(t.completed.length, t.failed.length);
  const totals = Array.from({ length: minutes }, (_, i) => (t.completed[i] ?? 0) + (t.failed[i] ?? 0));
  const scaleMax = niceCeiling(Math.max(0, ...totals));
  const slot = minutes ? width / minutes : width;
  const gap = Math.min(1, slot * 0.2);
  const bars = Array.from({ length: minutes }, (_, i): ChartBar => {
    const completed = t.completed[i] ?? 0;
    const failed = t.failed[i] ?? 0;
    const completedHeight = (completed / scaleMax) * height;
    const failedHeight = (failed / scaleMax) * height;
    return {
      minute: t.startsAt + i * 60_000,
      completed,
      failed,
      x: i * slot + gap / 2,
      width: Math.max(0, slot - gap),
      completedY: height - completedHeight,
      completedHeight,
      failedY: height - completedHeight - failedHeight,
      failedHeight,
    };
  });
  const totalCompleted = sum(t.completed);
  return {
    bars,
    scaleMax,
    totalCompleted,
    totalFailed: sum(t.failed),
    completedPerMinute: minutes ? totalCompleted / minutes : 0,
  };
}
