import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { HealthdLog, withHealthdLog } from '../../src/web/healthd-log';
import { createWebListener } from '../../src/web/listener';
import { startTestApp, type TestApp } from '../support/app';
import { startRedis, type TestRedis } from '../support/redis';
import { deliver, fixtureEvent, WEBHOOK_SECRET } from './webhooks-support';

describe('the health agent\'s request log, as web/main.ts wires it (outermost, so every answer counts)', () => {
  let redis: TestRedis;
  let app: TestApp;
  let log: HealthdLog;
  let dir: string;

  beforeAll(async () => {
    redis = await startRedis({ appendOnly: false });
  });
  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'healthd-int-'));
    log = new HealthdLog(dir);
    app = await startTestApp(
      redis.url,
      { STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET, ORIGIN_VERIFY_SECRET: 'v'.repeat(64) },
      { listener: (deps) => withHealthdLog(log, createWebListener(deps)) },
    );
  });
  afterEach(async () => {
    await app.close();
  });
  afterAll(async () => {
    await redis.destroy();
  });

  it('logs the webhook fast path, Express routes and origin refusals with their status, in healthd format', async () => {
    const { payload } = fixtureEvent('customer.created');
    expect((await deliver(app.url, payload)).status).toBe(403);
    expect((await fetch(`${app.url}/readyz`)).status).toBe(200);
    await log.flush();
    const [file] = readdirSync(dir);
    const lines = readFileSync(path.join(dir, file!), 'utf8').trim().split('\n').map((l) => l.split('"'));
    expect(lines.map((l) => [l[1], l[2]])).toEqual([
      ['/webhooks/stripe', '403'],
      ['/readyz', '200'],
    ]);
    for (const l of lines) expect(l).toHaveLength(6);
  });
});
