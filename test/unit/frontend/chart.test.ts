import { niceCeiling, throughputChart } from '../../../src/frontend/logic/chart';

describe('throughput chart', () => {
  it.each([
    [0, 1],
    [1, 1],
    [3, 5],
    [7, 10],
    [10, 10],
    [11, 20],
    [430, 500],
  ])('rounds a peak of %p up to a readable scale of %p', (peak, scale) => {
    expect(niceCeiling(peak)).toBe(scale);
  });

  it('stacks failed on top of completed, scaled to the view box', () => {
    const model = throughputChart({ startsAt: 0, completed: [0, 6], failed: [0, 4] }, 100, 50);
    expect(model.scaleMax).toBe(10);
    const [, bar] = model.bars;
    expect(bar).toMatchObject({ minute: 60_000, completed: 6, failed: 4, completedHeight: 30, completedY: 20, failedHeight: 20, failedY: 0 });
    expect(bar!.x).toBeGreaterThanOrEqual(50);
    expect(bar!.x + bar!.width).toBeLessThanOrEqual(100);
  });

  it('draws flat bars for an idle hour instead of dividing by zero', () => {
    const model = throughputChart({ startsAt: 0, completed: new Array(60).fill(0), failed: new Array(60).fill(0) }, 600, 120);
    expect(model.bars).toHaveLength(60);
    expect(model.bars.every((b) => b.completedHeight === 0 && b.failedHeight === 0 && Number.isFinite(b.completedY))).toBe(true);
  });

  it('sums the window', () => {
    const model = throughputChart({ startsAt: 0, completed: [1, 2, 3], failed: [1, 0, 0] }, 30, 10);
    expect(model).toMatchObject({ totalCompleted: 6, totalFailed: 1, completedPerMinute: 2 });
  });
});
