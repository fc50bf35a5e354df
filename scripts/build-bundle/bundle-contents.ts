import { existsSync, readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';

/**
 * What goes into the Elastic Beanstalk source bundle, relative to the repository root. An allowlist:
 * nothing else (no .env, sources, Dockerfile, tests, infra) can slip in. The Docker platform runs the
 * bundle's docker-compose.yml, which write-bundle generates from the repository's with the image
 * pinned by digest: instances pull that image and build nothing.
 */
export const BUNDLE_COMPOSE = 'docker-compose.yml';
export const BUNDLE_DIRS = ['.ebextensions', '.platform'] as const;

function walk(root: string, dir: string): string[] {
  return readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const rel = path.posix.join(dir, entry.name);
    return entry.isDirectory() ? walk(root, rel) : [rel];
  });
}

/** The files copied from the repository into the bundle, sorted (the compose file is generated). */
export function listBundleFiles(root: string): string[] {
  if (!existsSync(path.join(root, BUNDLE_COMPOSE))) throw new Error(`bundle: missing ${BUNDLE_COMPOSE}`);
  return BUNDLE_DIRS.filter((d) => existsSync(path.join(root, d)) && statSync(path.join(root, d)).isDirectory())
    .flatMap((d) => walk(root, d))
    .sort();
}
