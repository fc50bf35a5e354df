import {
  formatAgo,
  formatAttempts,
  formatBytes,
  formatCount,
  formatDuration,
  formatJson,
  formatMemory,
  formatProgress,
  formatTimestamp,
  progressPercent,
} from '../../../src/frontend/logic/format';

describe('console formatting', () => {
  it('formats counts with thousands separators', () => {
    expect(formatCount(0)).toBe('0');
    expect(formatCount(1234567)).toBe('1,234,567');
  });

  it.each([
    [null, '—'],
    [0, '<1 s'],
    [999, '<1 s'],
    [42_000, '42 s'],
    [185_000, '3 m 05 s'],
    [2 * 3600_000 + 7 * 60_000, '2 h 07 m'],
    [3 * 86_400_000 + 4 * 3600_000, '3 d 04 h'],
    [-5000, '<1 s'],
  ])('formats a duration of %p ms as %p', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it('formats bytes in binary units', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.50 KiB');
    expect(formatBytes(300 * 1024 * 1024)).toBe('300.0 MiB');
  });

  it('formats memory against maxmemory, or says there is no limit', () => {
    expect(formatMemory(256 * 1024 * 1024, 1024 * 1024 * 1024)).toBe('256.0 MiB of 1.00 GiB (25 %)');
    expect(formatMemory(1024, 0)).toBe('1.00 KiB (no maxmemory limit)');
  });

  it('shows times in UTC, and a dash for none or garbage', () => {
    expect(formatTimestamp('2026-11-25T20:31:07.123Z')).toBe('2026-11-25 20:31:07 UTC');
    expect(formatTimestamp(null)).toBe('—');
    expect(formatTimestamp('not a date')).toBe('—');
  });

  it('says how long ago something happened', () => {
    expect(formatAgo('2026-11-25T20:00:00Z', Date.parse('2026-11-25T20:01:30Z'))).toBe('1 m 30 s ago');
  });

  it('shows numeric progress as a percentage and any other progress as JSON', () => {
    expect(formatProgress(42.4)).toBe('42 %');
    expect(formatProgress({ step: 2 })).toBe('{"step":2}');
    expect(formatProgress(undefined)).toBe('—');
    expect(progressPercent(140)).toBe(100);
    expect(progressPercent({ step: 2 })).toBeNull();
  });

  it('counts attempts against the limit, and says when manual retries went past it', () => {
    expect(formatAttempts(1, 5)).toBe('1 of 5');
    expect(formatAttempts(2, 1)).toBe('2 (limit 1; retried by hand)');
  });

  it('pretty-prints JSON', () => {
    expect(formatJson({ a: 1 })).toBe('{\n  "a": 1\n}');
    expect(formatJson(undefined)).toBe('—');
  });
});
