import { existsSync, readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { readProcfile } from './procfile';

/**
 * What goes into the Elastic Beanstalk source bundle, relative to the repository root. An allowlist:
 * nothing else (no .env, tests, infra) can slip in.
 * - Docker platform: docker-compose.yml builds the image from Dockerfile + sources on each instance.
 * - Node.js platform (if a user picks it): Procfile + package*.json + prebuilt dist/.
 */
export const BUNDLE_FILES = [
  'docker-compose.yml',
  'Dockerfile',
  '.dockerignore',
  'Procfile',
  'package.json',
  'package-lock.json',
  'tsconfig.json',
  'tsconfig.build.json',
  'vite.config.ts',
  'scripts/docker-entrypoint.sh',
  'scripts/docker-healthcheck.js',
] as const;
export const BUNDLE_DIRS = ['.ebextensions', 'src', 'dist'] as const;
function walk(root: string, dir: string): string[] {
  return readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const rel = path.posix.join(dir, entry.name);
    return entry.isDirectory() ? walk(root, rel) : [rel];
  });
}

/** The bundle's files, sorted; fails if the build output the Procfile starts is missing. */
export function listBundleFiles(root: string): string[] {
  const missing = BUNDLE_FILES.filter((f) => !existsSync(path.join(root, f)));
  if (missing.length) throw new Error(`bundle: missing ${missing.join(', ')}`);
  for (const { name, command } of readProcfile(path.join(root, 'Procfile'))) {
    const entry = /\bnode\s+(\S+)/.exec(command)?.[1];
    if (entry && !existsSync(path.join(root, entry))) {
      throw new Error(`bundle: Procfile "${name}" runs ${entry}, which does not exist; run \`npm run build\` first`);
    }
  }
  const dirFiles = BUNDLE_DIRS.filter((d) => existsSync(path.join(root, d)) && statSync(path.join(root, d)).isDirectory())
    .flatMap((d) => walk(root, d));
  return [...BUNDLE_FILES, ...dirFiles].sort();
}
