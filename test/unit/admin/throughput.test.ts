import { perMinuteCounts, seriesStart } from '../../../src/admin/throughput';

const MINUTE = 60_000;
const at = (minute: number, second = 0) => minute * MINUTE + second * 1000;

describe('perMinuteCounts', () => {
  it('when no job ever finished, is all zeros', () => {
    const series = perMinuteCounts({ meta: { count: 0, prevTS: 0, prevCount: 0 }, data: [] }, at(1000), 5);
    expect(series).toEqual([0, 0, 0, 0, 0]);
  });

  it('puts the open minute last and closed minutes before it when the metrics are current', () => {
    // Last write in minute 1000: 7 jobs so far in it; minutes 999 and 998 closed with 4 and 2.
    const metrics = { meta: { count: 20, prevTS: at(1000, 5), prevCount: 13 }, data: [4, 2] };
    expect(perMinuteCounts(metrics, at(1000, 30), 4)).toEqual([0, 2, 4, 7]);
  });

  it('shifts everything left by the idle minutes since the last job, instead of pretending it is now', () => {
    const metrics = { meta: { count: 20, prevTS: at(1000, 5), prevCount: 13 }, data: [4, 2] };
    // Three idle minutes later: the open minute 1000 is now three slots from the end.
    expect(perMinuteCounts(metrics, at(1003, 1), 6)).toEqual([2, 4, 7, 0, 0, 0]);
  });

  it('drops points older than the window', () => {
    const metrics = { meta: { count: 1, prevTS: at(1000), prevCount: 0 }, data: [5, 6, 7, 8] };
    expect(perMinuteCounts(metrics, at(1000), 3)).toEqual([6, 5, 1]);
  });

  it('when the last job was more than a window ago, is all zeros', () => {
    const metrics = { meta: { count: 3, prevTS: at(1000), prevCount: 0 }, data: [9] };
    expect(perMinuteCounts(metrics, at(1100), 60)).toEqual(new Array(60).fill(0));
  });
});

describe('seriesStart', () => {
  it('is the start of the minute `minutes - 1` before the current one', () => {
    expect(seriesStart(at(1000, 42), 60)).toBe(at(941));
  });
});
