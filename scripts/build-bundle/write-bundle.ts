import { copyFileSync, createWriteStream, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { ZipFile } from 'yazl';
import { BUNDLE_COMPOSE, listBundleFiles } from './bundle-contents';
import { bundleCompose } from './bundle-compose';

export interface Bundle {
  /** Unzipped copy: CodePipeline zips it itself (buildspec.yml `bundle` artifact). */
  readonly stagingDir: string;
  /** The same files zipped at the root, for `eb deploy` and `npm run deploy`. */
  readonly zipPath: string;
  readonly files: string[];
}

export const BUNDLE_STAGING_DIR = 'build/bundle';
export const BUNDLE_ZIP = 'build/hooklane-bundle.zip';

// A fixed timestamp makes the zip depend on file contents only, so the same commit gives the same bundle.
const FIXED_MTIME = new Date('2000-01-01T00:00:00Z');

/**
 * Stages and zips the Elastic Beanstalk source bundle for `image` (`<repo-uri>@sha256:...`) from the
 * repository at `root`, into `outRoot`/build (the repository itself unless a test wants its own directory).
 */
export async function writeBundle(root: string, image: string, outRoot = root): Promise<Bundle> {
  const compose = bundleCompose(readFileSync(path.join(root, BUNDLE_COMPOSE), 'utf8'), image);
  const copied = listBundleFiles(root);
  const stagingDir = path.join(outRoot, BUNDLE_STAGING_DIR);
  const zipPath = path.join(outRoot, BUNDLE_ZIP);
  rmSync(stagingDir, { recursive: true, force: true });
  rmSync(zipPath, { force: true });

  const zip = new ZipFile();
  mkdirSync(stagingDir, { recursive: true });
  writeFileSync(path.join(stagingDir, BUNDLE_COMPOSE), compose);
  zip.addBuffer(Buffer.from(compose), BUNDLE_COMPOSE, { mtime: FIXED_MTIME, mode: 0o100644 });
  for (const file of copied) {
    const source = path.join(root, file);
    const target = path.join(stagingDir, file);
    mkdirSync(path.dirname(target), { recursive: true });
    copyFileSync(source, target);
    zip.addFile(source, file, { mtime: FIXED_MTIME, mode: 0o100644 });
  }
  zip.end();
  mkdirSync(path.dirname(zipPath), { recursive: true });
  await pipeline(zip.outputStream, createWriteStream(zipPath));
  return { stagingDir, zipPath, files: [BUNDLE_COMPOSE, ...copied].sort() };
}
