import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { writeBundle, type Bundle } from '../../scripts/build-bundle/write-bundle';
import { repoRoot } from './repo-artifacts';

// The bundle Elastic Beanstalk deploys: a compose file that pins the image the pipeline built, tested
// and pushed, plus .ebextensions. Instances pull that image; they never build one, run npm or apt-get.

const IMAGE = `123456789012.dkr.ecr.eu-west-1.amazonaws.com/hooklane-prod@sha256:${'0f'.repeat(32)}`;
let workDir: string;
let bundle: Bundle;

beforeAll(async () => {
  workDir = mkdtempSync(path.join(tmpdir(), 'hooklane-bundle-'));
  bundle = await writeBundle(repoRoot, IMAGE, workDir);
});

afterAll(() => {
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

function unzipList(zip: string): string[] {
  const list = spawnSync('unzip', ['-Z1', zip], { encoding: 'utf8' });
  if (list.status !== 0) throw new Error(`unzip failed: ${list.stderr}`);
  return list.stdout.trim().split('\n').sort();
}

describe('the Elastic Beanstalk bundle', () => {
  it('holds the compose file and .ebextensions at its root, and nothing to build an image from', () => {
    expect(bundle.files).toEqual(expect.arrayContaining(['docker-compose.yml', '.ebextensions/01-health.config']));
    expect(unzipList(bundle.zipPath)).toEqual(bundle.files);
    expect(bundle.files.filter((f) => f !== 'docker-compose.yml' && !/^\.(ebextensions|platform)\//.test(f))).toEqual([]);
  });

  it('references the image by digest in every service, with no build key (EB would build from a Dockerfile)', () => {
    const zipped = spawnSync('unzip', ['-p', bundle.zipPath, 'docker-compose.yml'], { encoding: 'utf8' }).stdout;
    expect(zipped).toBe(readFileSync(path.join(bundle.stagingDir, 'docker-compose.yml'), 'utf8'));
    const compose = parseYaml(zipped) as { services: Record<string, { image?: string; build?: unknown }> };
    expect(Object.keys(compose.services).sort()).toEqual(['web', 'worker']);
    for (const service of Object.values(compose.services)) {
      expect(service.image).toBe(IMAGE);
      expect(service.build).toBeUndefined();
    }
  });

  it('is the same zip for the same files and image', async () => {
    const again = await writeBundle(repoRoot, IMAGE, mkdtempSync(path.join(workDir, 'again-')));
    expect(readFileSync(again.zipPath).equals(readFileSync(bundle.zipPath))).toBe(true);
  });

  it('is refused for an image named by a movable tag', async () => {
    await expect(writeBundle(repoRoot, 'hooklane:latest', mkdtempSync(path.join(workDir, 'tag-')))).rejects.toThrow(/by digest/);
  });

  it('`npm run bundle` without --image stops and says how to name one', () => {
    const run = spawnSync(path.join(repoRoot, 'node_modules/.bin/tsx'), ['scripts/build-bundle.ts'], {
      cwd: repoRoot,
      encoding: 'utf8',
      env: { ...process.env, HOOKLANE_IMAGE: '' },
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/--image <repo-uri>@sha256:<digest>/);
  }, 30_000);
});
