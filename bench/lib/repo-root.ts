import { existsSync } from 'node:fs';
import path from 'node:path';

/** The repository root: the nearest folder above `dir` with a Procfile (works from bench/ and build/bench/). */
export function repoRoot(dir = __dirname): string {
  if (existsSync(path.join(dir, 'Procfile'))) return dir;
  const parent = path.dirname(dir);
  if (parent === dir) throw new Error(`no Procfile above ${__dirname}`);
  return repoRoot(parent);
}
