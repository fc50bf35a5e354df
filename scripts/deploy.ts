// `npm run deploy -- --env <name>`: run by people from a dev machine; never imported by web or worker.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ElasticBeanstalkClient } from '@aws-sdk/client-elastic-beanstalk';
import { S3Client } from '@aws-sdk/client-s3';
import { BUNDLE_ZIP, writeBundle } from './build-bundle/write-bundle';
import { runDeployCli } from './deploy/cli';
import type { DeployOptions } from './deploy/options';

const root = path.resolve(__dirname, '..');

async function buildBundle(options: DeployOptions): Promise<string> {
  if (options.skipBuild) {
    const zip = path.join(root, BUNDLE_ZIP);
    if (!existsSync(zip)) throw new Error(`${BUNDLE_ZIP} does not exist; run \`npm run bundle\` or drop --skip-build`);
    return zip;
  }
  const build = spawnSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });
  if (build.status !== 0) throw new Error('npm run build failed');
  return (await writeBundle(root)).zipPath;
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
      buildBundle: () => buildBundle(options),
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
