import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '../../src/dev/embedded-redis';
import { alive, runNode } from '../support/processes';

describe('npm start (dist/dev/start-local.js)', () => {
  test('brings up Redis, web and worker, prints the URL, and SIGTERM leaves no process behind', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'hooklane-start-'));
    const port = await freePort();
    const redisPort = await freePort();
    const local = runNode('dist/dev/start-local.js', {
      PORT: String(port),
      REDIS_PORT: String(redisPort),
      HOOKLANE_DATA_DIR: dataDir,
      NODE_ENV: 'development',
    });
    try {
      await local.waitForOutput(`hooklane is up at http://localhost:${port}`, 90_000);
      const out = local.output();
      expect(out).toContain(`embedded Redis on redis://127.0.0.1:${redisPort}`);
      const pids = [...out.matchAll(/pid (\d+)/g)].map((m) => Number(m[1]));
      expect(pids.length).toBeGreaterThanOrEqual(3);

      const res = await fetch(`http://127.0.0.1:${port}/api/jobs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"steps":1}',
      });
      expect(res.status).toBe(202);

      const exit = await local.kill('SIGTERM');
      expect(exit.code).toBe(0);
      expect(pids.filter(alive)).toEqual([]);
    } finally {
      await local.kill('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test('is refused with NODE_ENV=production', async () => {
    const local = runNode('dist/dev/start-local.js', { NODE_ENV: 'production' });
    const exit = await local.exited;
    expect(exit.code).toBe(1);
    expect(local.output()).toContain('refused with NODE_ENV=production');
  });
});
