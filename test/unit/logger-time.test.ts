import { Writable } from 'node:stream';
import { createLogger, isoTimeOncePerMs } from '../../src/logger';

describe('log line time', () => {
  it('is the ISO time of the current millisecond, as pino.stdTimeFunctions.isoTime writes it', () => {
    const before = Date.now();
    const fragment = isoTimeOncePerMs();
    const after = Date.now();
    const match = /^,"time":"(.+)"$/.exec(fragment);
    expect(match).not.toBeNull();
    const at = Date.parse(match![1]!);
    expect(at).toBeGreaterThanOrEqual(before);
    expect(at).toBeLessThanOrEqual(after);
  });

  it('moves on with the clock', async () => {
    const first = isoTimeOncePerMs();
    const start = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 5));
    while (Date.now() === start) await new Promise((resolve) => setImmediate(resolve));
    expect(isoTimeOncePerMs()).not.toBe(first);
  });

  it('is the time field of every line', () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk, _enc, done) => { lines.push(String(chunk)); done(); } });
    const logger = createLogger({ level: 'info', name: 'test' }, sink);
    const before = Date.now();
    logger.info('one');
    const time = (JSON.parse(lines[0]!) as { time: string }).time;
    expect(time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(Date.parse(time)).toBeGreaterThanOrEqual(before);
  });
});
