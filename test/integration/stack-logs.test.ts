import { existsSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { freePort } from '../../src/dev/embedded-redis';
import { runNode } from '../support/processes';

describe('npm run stack (dist/dev/stack-main.js)', () => {
  test('Ctrl-C stops everything but keeps the logs, and says where they are', async () => {
    const stack = runNode('dist/dev/stack-main.js', { PORT: String(await freePort()), NODE_ENV: 'development', STRIPE_WEBHOOK_SECRET: 'whsec_stack_logs_0123456789' });
    let logDir: string | undefined;
    try {
      // runNode passes no flags, so argv-driven counts use their defaults (2 web, 1 worker).
      await stack.waitForOutput('front URL', 60_000);
      stack.child.kill('SIGINT');
      await stack.waitForOutput('stopped', 30_000);
      const exit = await stack.exited;

      expect(exit.code).toBe(0);
      logDir = /logs kept in (\S+)/.exec(stack.output())?.[1];
      expect(logDir).toBeDefined();
      expect(readdirSync(logDir!).sort()).toEqual(expect.arrayContaining(['haproxy.log', 'web1.log', 'worker1.log']));
      expect(existsSync(path.join(logDir!, '..', 'redis'))).toBe(false);
    } finally {
      await stack.kill('SIGKILL');
      if (logDir) rmSync(path.dirname(logDir), { recursive: true, force: true });
    }
  });
});
