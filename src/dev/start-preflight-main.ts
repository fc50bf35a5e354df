import path from 'node:path';
import { localDataDir } from '../cli/local-redis-url';
import { loadStartConfig, startConflicts } from './start-preflight';

/**
 * `npm start`'s checks before it builds anything (run by scripts/start.mjs with tsx, since dist/ may not
 * exist yet): a port or data directory already in use stops it in a second, not after the build.
 * start-local.js checks again and takes the lock, so a race between two starts is still caught.
 */
async function main(): Promise<void> {
  // start-local.js says why it refuses production; its settings are checked by the processes themselves.
  if (process.env.NODE_ENV === 'production') process.exit(0);
  const config = loadStartConfig(process.env);
  const root = path.resolve(__dirname, '..', '..');
  const dataDir = localDataDir(root);
  const problems = await startConflicts({
    port: config.PORT,
    host: config.HOST,
    dataDir,
    embeddedRedis: !process.env.REDIS_URL,
    displayDir: (dir) => (dir.startsWith(root + path.sep) ? path.relative(root, dir) : dir),
  });
  for (const problem of problems) process.stderr.write(`[hooklane] ${problem}\n`);
  process.exit(problems.length ? 1 : 0);
}

void main();
