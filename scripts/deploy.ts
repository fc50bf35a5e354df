// `npm run deploy -- --env <name>`: run by people from a dev machine; never imported by web or worker.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ElasticBeanstalkClient } from '@aws-sdk/client-elastic-beanstalk';
import { S3Client } from '@aws-sdk/client-s3';
import { BUNDLE_ZIP, writeBundle } from './build-bundle/write-bundle';
import { runDeployCli } from './deploy/cli';
import { DeployError } from './deploy/errors';
import type { DeployOptions } from './deploy/options';
import { dockerCli, engineReachable } from './image/docker-cli';
import { ECRClient, pushImage } from './image/push-image';

const root = path.resolve(__dirname, '..');

async function buildBundle(options: DeployOptions, image: string | undefined): Promise<string> {
  if (options.skipBuild) {
    const zip = path.join(root, BUNDLE_ZIP);
    if (!existsSync(zip)) throw new Error(`${BUNDLE_ZIP} does not exist; run \`npm run bundle -- --image <uri@digest>\` or drop --skip-build`);
    return zip;
  }
  if (!image) throw new Error('no image to bundle');
  return (await writeBundle(root, image)).zipPath;
}

/** Builds the image from the Dockerfile with the local engine and pushes it to ECR, by digest. */
async function buildAndPushImage(options: DeployOptions, label: string): Promise<string> {
  if (!engineReachable(dockerCli)) {
    throw new DeployError(
      'no --image given and no Docker engine reachable to build one (docker info fails). Pass ' +
        '--image <repository-uri>@sha256:<digest> (the pipeline pushes one for every commit), or push to main ' +
        'and let the pipeline deploy.',
    );
  }
  const repositoryUri = options.repository ?? process.env.HOOKLANE_IMAGE_REPOSITORY;
  if (!repositoryUri) {
    throw new DeployError('to push a locally built image, pass --repository <uri> (the stack output ImageRepositoryUri) or set HOOKLANE_IMAGE_REPOSITORY');
  }
  const local = `hooklane:${label}`;
  const build = spawnSync('docker', ['build', '--tag', local, '.'], { cwd: root, stdio: 'inherit' });
  if (build.status !== 0) throw new DeployError('docker build failed (its output is above)');
  const clientConfig = options.region ? { region: options.region } : {};
  return pushImage(new ECRClient(clientConfig), dockerCli, { source: local, repositoryUri, tag: label });
}

/** hooklane-<short sha>[-dirty]-<UTC yyyymmddhhmmss>: unique, and says what is running. */
function defaultVersionLabel(): string {
  const git = (...args: string[]) => execFileSync('git', args, { cwd: root, encoding: 'utf8' }).trim();
  let sha = 'nogit';
  try {
    sha = git('rev-parse', '--short=12', 'HEAD') + (git('status', '--porcelain') ? '-dirty' : '');
  } catch {
    // Not a git checkout (e.g. an unpacked release): the timestamp alone keeps labels unique.
  }
  return `hooklane-${sha}-${new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14)}`;
}

runDeployCli(
  process.argv.slice(2),
  (options) => {
    const clientConfig = options.region ? { region: options.region } : {};
    return {
      eb: new ElasticBeanstalkClient(clientConfig),
      s3: new S3Client(clientConfig),
      buildBundle: (image) => buildBundle(options, image),
      buildAndPushImage: (label) => buildAndPushImage(options, label),
      defaultVersionLabel,
      now: Date.now,
      sleep: (ms) => sleep(ms),
      print: (line) => process.stdout.write(`${line}\n`),
    };
  },
  { stdout: (s) => process.stdout.write(`${s}\n`), stderr: (s) => process.stderr.write(`${s}\n`) },
  process.env.DEBUG === '1',
).then((code) => {
  process.exitCode = code;
});
