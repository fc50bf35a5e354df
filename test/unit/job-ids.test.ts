import { isValidJobId, jobIdFromUrl } from '../../src/job-ids';

describe('job ids taken from URLs', () => {
  test.each(['1', '42', 'a0f3c1de-5b7e-4c39-9d1e-0e6f7b1c2d3e', 'evt_1PqRsTuVwXyZ0123', 'evt_1PqRsTuVwXyZ0123-replay-12', 'x'.repeat(255)])(
    'the ids hooklane and BullMQ make are valid: %s',
    (id) => {
      expect(isValidJobId(id)).toBe(true);
      expect(jobIdFromUrl(id)).toBe(id);
    },
  );

  test.each([
    'meta', 'id', 'wait', 'waiting', 'active', 'paused', 'completed', 'failed', 'delayed', 'prioritized', 'waiting-children',
    'stalled', 'stalled-check', 'events', 'limiter', 'marker', 'repeat', 'pc', 'de', 'dn', 'metrics', 'priority', 'idempotency',
  ])('a BullMQ (or hooklane) queue key name is refused: %s', (id) => {
    expect(isValidJobId(id)).toBe(false);
    expect(() => jobIdFromUrl(id)).toThrow(expect.objectContaining({ code: 'JOB_NOT_FOUND', status: 404 }));
  });

  test.each(['', 'x'.repeat(256), 'a:logs', 'a/b', 'a b', 'a.b', 'é', '*'])('a malformed id is refused: %j', (id) => {
    expect(isValidJobId(id)).toBe(false);
    expect(() => jobIdFromUrl(id)).toThrow(expect.objectContaining({ code: 'JOB_NOT_FOUND' }));
  });

  test('a missing or non-string id is refused', () => {
    expect(() => jobIdFromUrl(undefined)).toThrow(expect.objectContaining({ code: 'JOB_NOT_FOUND' }));
    expect(() => jobIdFromUrl(['meta'])).toThrow(expect.objectContaining({ code: 'JOB_NOT_FOUND' }));
  });
});
