import { spawn } from 'node:child_process';
import path from 'node:path';
import { ROOT } from '../support/processes';

const LOGGER = path.join(ROOT, 'dist', 'logger.js');

/** Runs `body` in a fresh Node process with hooklane's built logger as `logger`; collects its stdout. */
function runWithLogger(body: string) {
  const script = `const logger = require(${JSON.stringify(LOGGER)}).createLogger({ level: 'info', name: 'probe' });\n${body}`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  const waiters: Array<() => void> = [];
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    for (const wake of waiters.splice(0)) wake();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const lines = () => stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line) as { msg: string });
  const waitForLines = async (count: number) => {
    while (lines().length < count) await new Promise<void>((resolve) => waiters.push(resolve));
  };
  return { child, exited, lines, waitForLines };
}

describe('stdout logging on the main thread (lines gathered, then written together)', () => {
  it('a line reaches stdout within the flush interval while the process keeps running', async () => {
    const probe = runWithLogger(`logger.info('first'); setInterval(() => undefined, 1000);`);
    try {
      await probe.waitForLines(1);
      expect(probe.lines().map((line) => line.msg)).toEqual(['first']);
      expect(probe.child.exitCode).toBeNull();
    } finally {
      probe.child.kill('SIGKILL');
      await probe.exited;
    }
  });

  it('what is still gathered is written when the process exits, even at once', async () => {
    const probe = runWithLogger(`for (let i = 0; i < 100; i += 1) logger.info('line ' + i); process.exit(3);`);

    expect(await probe.exited).toBe(3);
    expect(probe.lines().map((line) => line.msg)).toEqual(Array.from({ length: 100 }, (_, i) => `line ${i}`));
  });

  it('a line logged just before an uncaught exception is not lost', async () => {
    const probe = runWithLogger(`logger.error('about to fail'); throw new Error('boom');`);

    expect(await probe.exited).toBe(1);
    expect(probe.lines().map((line) => line.msg)).toEqual(['about to fail']);
  });
});
