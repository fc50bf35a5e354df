import { freePort } from '../../src/dev/embedded-redis';
import { runNode } from '../support/processes';

describe('a process whose Redis cannot be reached at boot', () => {
  for (const script of ['dist/web/main.js', 'dist/worker/main.js']) {
    test(`${script}: says once which Redis (without its password) and what to check, then exits 1`, async () => {
      const port = await freePort(); // nothing listens there
      const p = runNode(script, { REDIS_URL: `redis://:pw-do-not-print@127.0.0.1:${port}`, REDIS_BOOT_TIMEOUT_MS: '1500', PORT: '0' });

      const exit = await p.exited;
      const lines = p.output().trim().split('\n');

      expect(exit.code).toBe(1);
      expect(p.output()).not.toContain('pw-do-not-print');
      expect(lines.filter((l) => l.includes('"level":"warn"'))).toHaveLength(1);
      const fatal = lines.find((l) => l.includes('"level":"fatal"'))!;
      expect(fatal).toContain(`redis://127.0.0.1:${port}`);
      expect(fatal).toMatch(/ECONNREFUSED/);
      expect(fatal).toMatch(/check/i);
    });
  }
});
