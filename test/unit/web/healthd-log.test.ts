import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { healthdFileName, healthdLine, HealthdLog } from '../../../src/web/healthd-log';

describe('request log for Elastic Beanstalk\'s health agent (healthd format)', () => {
  it('writes time"path"status"request time"upstream time"X-Forwarded-For, times in seconds', () => {
    expect(healthdLine(Date.UTC(2026, 11, 1, 6, 5, 4, 321), '/webhooks/stripe', 200, 12.5, '203.0.113.9')).toBe(
      '1796105104.321"/webhooks/stripe"200"0.013"0.013"203.0.113.9\n',
    );
  });

  it('names each hour\'s file application.log.YYYY-MM-DD-HH in UTC', () => {
    expect(healthdFileName(Date.UTC(2026, 0, 2, 3, 59, 59))).toBe('application.log.2026-01-02-03');
  });

  it('gathers lines and appends them to the hour\'s file on flush, without query strings', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'healthd-'));
    const at = Date.UTC(2026, 11, 1, 6, 0, 0);
    const log = new HealthdLog(dir, { now: () => at });
    log.record('/api/jobs/1?token=secret', 404, 1, undefined);
    log.record('/webhooks/stripe', 503, 2, '198.51.100.1');
    await log.flush();
    expect(readdirSync(dir)).toEqual(['application.log.2026-12-01-06']);
    const lines = readFileSync(path.join(dir, 'application.log.2026-12-01-06'), 'utf8').trim().split('\n');
    expect(lines.map((l) => l.split('"').slice(1, 3))).toEqual([
      ['/api/jobs/1', '404'],
      ['/webhooks/stripe', '503'],
    ]);
  });

  it('at a new hour, removes files older than the previous hour (nothing else cleans them without nginx)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'healthd-'));
    for (const h of ['02', '03', '04']) writeFileSync(path.join(dir, `application.log.2026-12-01-${h}`), 'x\n');
    writeFileSync(path.join(dir, 'unrelated.txt'), 'keep');
    const log = new HealthdLog(dir, { now: () => Date.UTC(2026, 11, 1, 5, 0, 1) });
    log.record('/readyz', 200, 1, undefined);
    await log.flush();
    expect(readdirSync(dir).sort()).toEqual(['application.log.2026-12-01-04', 'application.log.2026-12-01-05', 'unrelated.txt']);
  });

  it('never holds more than its bound when the directory cannot be written, and reports it once', async () => {
    const warnings: string[] = [];
    const log = new HealthdLog('/nonexistent/healthd', { maxBufferedLines: 3, onError: (msg) => warnings.push(msg) });
    for (let i = 0; i < 10; i++) log.record('/x', 200, 1, undefined);
    expect(log.buffered).toBe(3);
    await log.flush();
    await log.flush();
    expect(log.buffered).toBe(0);
    expect(warnings).toHaveLength(1);
  });
});
