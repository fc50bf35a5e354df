import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Where `npm start` leaves the URL of its embedded Redis (whose port can change when 6379 is taken), so
 * the command-line tools reach the same Redis with zero flags. Only ever a loopback URL without a password.
 */
const FILE = 'redis-url';

/** `npm start`'s data directory: HOOKLANE_DATA_DIR, else `.data/` at the repository root. */
export function localDataDir(root: string, env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(env.HOOKLANE_DATA_DIR ?? path.join(root, '.data'));
}

export function localRedisUrlFile(dataDir: string): string {
  return path.join(dataDir, FILE);
}

export function writeLocalRedisUrl(dataDir: string, url: string): void {
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(localRedisUrlFile(dataDir), `${url}\n`, { mode: 0o600 });
}

export function removeLocalRedisUrl(dataDir: string): void {
  rmSync(localRedisUrlFile(dataDir), { force: true });
}

export function readLocalRedisUrl(dataDir: string): string | undefined {
  const file = localRedisUrlFile(dataDir);
  if (!existsSync(file)) return undefined;
  const url = readFileSync(file, 'utf8').trim();
  return url || undefined;
}
