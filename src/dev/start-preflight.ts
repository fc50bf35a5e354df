import { existsSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { loadConfigOrExit, type Config } from '../config';


/**
 * The developer's own settings, checked before anything is built or started (exit 78 naming each bad key).
 * Checked as given, before npm start derives URLs from PORT, so a bad PORT is one error, not three.
 * REDIS_URL may be unset: npm start then runs its own Redis.
 */
export function loadStartConfig(env: NodeJS.ProcessEnv): Config {
  return loadConfigOrExit({ NODE_ENV: 'development', ...env, REDIS_URL: env.REDIS_URL || 'redis://127.0.0.1:6379' });
}

/** Beside `redis/` in the data directory: whoever holds it runs the embedded Redis on that AOF directory. */
export const START_LOCK_FILE = 'npm-start.lock';

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  // After a reboot the pid may belong to something else: a holder is always a node process.
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('node');
  } catch {
    return true;
  }
}

function lockHolder(file: string): number | undefined {
  try {
    const { pid } = JSON.parse(readFileSync(file, 'utf8')) as { pid?: unknown };
    return typeof pid === 'number' && isRunning(pid) ? pid : undefined;
  } catch {
    return undefined; // missing or torn: nobody holds it
  }
}

/**
 * Takes the data directory for this process, or says which live process has it. A lock whose process is
 * gone (killed, crashed) is stale and taken over. Two npm starts on one AOF directory corrupt each other.
 */
export function acquireStartLock(dataDir: string, pid = process.pid): { release(): void } | { heldBy: number } {
  mkdirSync(dataDir, { recursive: true });
  const file = path.join(dataDir, START_LOCK_FILE);
  for (let attempt = 0; attempt < 3; attempt += 1) {
    try {
      writeFileSync(file, JSON.stringify({ pid }), { flag: 'wx', mode: 0o600 });
      return {
        release: () => {
          if (lockHolder(file) === pid) unlinkSync(file);
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = lockHolder(file);
      if (holder !== undefined) return { heldBy: holder };
      try {
        unlinkSync(file);
      } catch {
        // another starter removed it first; try again
      }
    }
  }
  const holder = lockHolder(file);
  return { heldBy: holder ?? -1 };
}

/** The live process that holds the data directory, without taking it. */
export function startLockHolder(dataDir: string): number | undefined {
  const file = path.join(dataDir, START_LOCK_FILE);
  return existsSync(file) ? lockHolder(file) : undefined;
}

function canListen(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** A port near `port` that is free now, to suggest; undefined when none of the next few is. */
async function nearbyFreePort(port: number, host: string): Promise<number | undefined> {
  for (let candidate = port + 1; candidate <= Math.min(port + 20, 65535); candidate += 1) {
    if (await canListen(candidate, host)) return candidate;
  }
  return undefined;
}

export interface StartConflictOptions {
  port: number;
  host: string;
  dataDir: string;
  /** Only the embedded Redis uses the data directory's redis/; with REDIS_URL two starts may share it. */
  embeddedRedis: boolean;
  /** How to show the data directory in messages, e.g. relative to the checkout. */
  displayDir?: (dir: string) => string;
}

/** What stops this npm start from running beside whatever already runs: one line per problem, empty when none. */
export async function startConflicts(options: StartConflictOptions): Promise<string[]> {
  const problems: string[] = [];
  const show = options.displayDir ?? ((dir: string) => dir);
  if (!(await canListen(options.port, options.host))) {
    const free = await nearbyFreePort(options.port, options.host);
    problems.push(
      `port ${options.port} is in use; set PORT=${free ?? '<a free port>'} (PORT=${free ?? '...'} npm start) or stop what listens on ${options.port}`,
    );
  }
  if (options.embeddedRedis) {
    const holder = startLockHolder(options.dataDir);
    if (holder !== undefined) problems.push(lockedMessage(holder, show(path.join(options.dataDir, 'redis'))));
  }
  return problems;
}

export function lockedMessage(holder: number, redisDir: string): string {
  return `another npm start (pid ${holder}) uses ${redisDir}; stop it first (Ctrl-C in its terminal), or use its console`;
}
