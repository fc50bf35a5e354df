import { copyFileSync, createWriteStream, mkdirSync, rmSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { ZipFile } from 'yazl';
import { listBundleFiles } from './bundle-contents';

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
 * Stages and zips the Elastic Beanstalk source bundle from the repository at `root`, into
 * `outRoot`/build (the repository itself unless a test wants its own directory).
 */
export async function writeBundle(root: string, outRoot = root): Promise<Bundle> {
  const files = listBundleFiles(root);
  const stagingDir = path.join(outRoot, BUNDLE_STAGING_DIR);
  const zipPath = path.join(outRoot, BUNDLE_ZIP);
  rmSync(stagingDir, { recursive: true, force: true });
  rmSync(zipPath, { force: true });

  const zip = new ZipFile();
  for (const file of files) {
    const source = path.join(root, file);
    const target = path.join(stagingDir, file);
    mkdirSync(path.dirname(target), { recursive: true });
    copyFileSync(source, target);
    // Keeps the entrypoint's executable bit: EB unzips with modes, and Docker copies them into the image.
    zip.addFile(source, file, { mtime: FIXED_MTIME, mode: statSync(source).mode });
  }
  zip.end();
  mkdirSync(path.dirname(zipPath), { recursive: true });
  await pipeline(zip.outputStream, createWriteStream(zipPath));
  return { stagingDir, zipPath, files };
}
