import { formatTime } from '../src/payments/format-time';

describe('formatTime', () => {
  it('reads Stripe seconds, JavaScript milliseconds and ISO strings as the same instant', () => {
    const expected = '2023-11-14 22:13:20 UTC';
    expect(formatTime(1_700_000_000)).toBe(expected);
    expect(formatTime(1_700_000_000_000)).toBe(expected);
    expect(formatTime('2023-11-14T22:13:20.000Z')).toBe(expected);
  });

  it('shows a value it cannot read as it came', () => {
    expect(formatTime('yesterday-ish')).toBe('yesterday-ish');
  });
});
