import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import {
  CreateApplicationVersionCommand,
  CreateStorageLocationCommand,
  DescribeApplicationVersionsCommand,
  DescribeEnvironmentsCommand,
  DescribeEventsCommand,
  DescribePlatformVersionCommand,
  ElasticBeanstalkClient,
  ListPlatformVersionsCommand,
  UpdateEnvironmentCommand,
  type EnvironmentDescription,
} from '@aws-sdk/client-elastic-beanstalk';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { runDeployCli } from '../../scripts/deploy/cli';
import type { DeployDeps } from '../../scripts/deploy/deploy-version';
import { DeployError } from '../../scripts/deploy/errors';

const eb = mockClient(ElasticBeanstalkClient);
const s3 = mockClient(S3Client);
const LABEL = 'hooklane-test-1';
const ENV = 'hooklane-prod';
const IMAGE = `123456789012.dkr.ecr.eu-west-1.amazonaws.com/hooklane-prod@sha256:${'1a'.repeat(32)}`;
const PUSHED = `123456789012.dkr.ecr.eu-west-1.amazonaws.com/hooklane-prod@sha256:${'2b'.repeat(32)}`;

/**
 * A fake clock: sleep() advances it instantly, so timeouts are reached without waiting. `docker` says
 * whether a local engine can build and push an image (the fake pushes PUSHED).
 */
function harness({ docker = true } = {}) {
  let clock = Date.parse('2026-01-01T00:00:00Z');
  const out: string[] = [];
  const err: string[] = [];
  const zip = path.join(mkdtempSync(path.join(tmpdir(), 'hooklane-deploy-')), 'bundle.zip');
  writeFileSync(zip, 'PK fake bundle');
  let builds = 0;
  const bundledImages: (string | undefined)[] = [];
  const pushedLabels: string[] = [];
  const deps: DeployDeps = {
    eb: new ElasticBeanstalkClient({ region: 'eu-west-1' }),
    s3: new S3Client({ region: 'eu-west-1' }),
    buildBundle: async (image) => {
      builds++;
      bundledImages.push(image);
      return zip;
    },
    buildAndPushImage: async (label) => {
      if (!docker) throw new DeployError('no --image given and no Docker engine reachable to build one (docker info fails). Pass --image <repository-uri>@sha256:<digest>');
      pushedLabels.push(label);
      return PUSHED;
    },
    defaultVersionLabel: () => LABEL,
    now: () => clock,
    sleep: async (ms) => {
      clock += ms;
    },
    print: (line) => out.push(line),
  };
  const run = (...argv: string[]) =>
    runDeployCli(['--env', ENV, ...argv], () => deps, { stdout: (s) => out.push(s), stderr: (s) => err.push(s) });
  return { run, out, err, builds: () => builds, bundledImages, pushedLabels };
}

const environment = (over: Partial<EnvironmentDescription>): EnvironmentDescription => ({
  EnvironmentName: ENV,
  ApplicationName: 'hooklane-prod',
  Status: 'Ready',
  Health: 'Green',
  VersionLabel: 'old-version',
  ...over,
});

/** DescribeEnvironments answers: before the update, then each poll in turn (the last one repeats). */
function environmentsSequence(...states: Partial<EnvironmentDescription>[]) {
  const mock = eb.on(DescribeEnvironmentsCommand);
  let chain = mock.resolvesOnce({ Environments: [environment({})] });
  for (const s of states.slice(0, -1)) chain = chain.resolvesOnce({ Environments: [environment(s)] });
  chain.resolves({ Environments: [environment(states.at(-1) ?? {})] });
}

beforeEach(() => {
  eb.reset();
  s3.reset();
  eb.on(CreateStorageLocationCommand).resolves({ S3Bucket: 'elasticbeanstalk-eu-west-1-000000000000' });
  eb.on(CreateApplicationVersionCommand).resolves({});
  eb.on(DescribeApplicationVersionsCommand)
    .resolvesOnce({ ApplicationVersions: [{ VersionLabel: LABEL, Status: 'Processing' }] })
    .resolves({ ApplicationVersions: [{ VersionLabel: LABEL, Status: 'Processed' }] });
  eb.on(UpdateEnvironmentCommand).resolves({});
  eb.on(DescribeEventsCommand).resolves({ Events: [] });
  s3.on(PutObjectCommand).resolves({});
});

describe('npm run deploy', () => {
  it('uploads the bundle, creates a processed version, updates the environment and exits 0 once Ready and Green', async () => {
    const h = harness();
    environmentsSequence(
      { Status: 'Updating', Health: 'Grey' },
      { Status: 'Ready', Health: 'Yellow', VersionLabel: LABEL },
      { Status: 'Ready', Health: 'Green', VersionLabel: LABEL },
    );
    eb.on(DescribeEventsCommand).resolves({
      Events: [
        { EventDate: new Date('2026-01-01T00:00:20Z'), Severity: 'INFO', Message: 'Environment update completed successfully.' },
        { EventDate: new Date('2026-01-01T00:00:05Z'), Severity: 'INFO', Message: 'Environment update is starting.' },
      ],
    });

    expect(await h.run()).toBe(0);

    expect(s3.commandCalls(PutObjectCommand)[0]!.args[0].input).toMatchObject({
      Bucket: 'elasticbeanstalk-eu-west-1-000000000000',
      Key: `hooklane-prod/${LABEL}.zip`,
    });
    expect(eb.commandCalls(CreateApplicationVersionCommand)[0]!.args[0].input).toMatchObject({
      ApplicationName: 'hooklane-prod',
      VersionLabel: LABEL,
      Process: true,
      SourceBundle: { S3Bucket: 'elasticbeanstalk-eu-west-1-000000000000', S3Key: `hooklane-prod/${LABEL}.zip` },
    });
    expect(eb.commandCalls(UpdateEnvironmentCommand)[0]!.args[0].input).toEqual({ EnvironmentName: ENV, VersionLabel: LABEL });
    const printed = h.out.join('\n');
    // Events stream oldest first, each once, although every poll returns both.
    expect(printed.indexOf('update is starting')).toBeLessThan(printed.indexOf('update completed'));
    expect(printed.match(/update is starting/g)).toHaveLength(1);
    expect(printed).toMatch(/status Ready \/ Green \/ hooklane-test-1/);
    expect(printed).toMatch(/is Ready and Green on hooklane-test-1/);
  });

  it('exits 1 with the failing events when the environment turns Red', async () => {
    const h = harness();
    environmentsSequence({ Status: 'Updating', Health: 'Grey' }, { Status: 'Ready', Health: 'Red', VersionLabel: LABEL });
    eb.on(DescribeEventsCommand).resolves({
      Events: [
        { EventDate: new Date('2026-01-01T00:01:00Z'), Severity: 'ERROR', Message: 'Instance deployment failed. For details, see eb-engine.log.' },
        { EventDate: new Date('2026-01-01T00:00:30Z'), Severity: 'INFO', Message: 'Deploying new version to instance(s).' },
      ],
    });

    expect(await h.run()).toBe(1);

    const stderr = h.err.join('\n');
    expect(stderr).toMatch(/deploy failed: hooklane-prod is Red after deploying hooklane-test-1/);
    expect(stderr).toMatch(/ERROR Instance deployment failed/);
    expect(stderr).not.toMatch(/Deploying new version/);
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it('exits 1 when EB rolls back to the previous version', async () => {
    const h = harness();
    environmentsSequence({ Status: 'Updating', Health: 'Grey' }, { Status: 'Ready', Health: 'Green', VersionLabel: 'old-version' });
    expect(await h.run()).toBe(1);
    expect(h.err.join('\n')).toMatch(/ended with old-version running, not hooklane-test-1/);
  });

  it('gives up after --timeout with the last state, without waiting in real time', async () => {
    const h = harness();
    environmentsSequence({ Status: 'Updating', Health: 'Grey' });
    eb.on(DescribeEventsCommand).resolves({
      Events: [{ EventDate: new Date('2026-01-01T00:00:10Z'), Severity: 'WARN', Message: 'Instance i-1 is taking longer than expected.' }],
    });
    const started = Date.now();

    expect(await h.run('--timeout', '10')).toBe(1);

    expect(Date.now() - started).toBeLessThan(30_000);
    const stderr = h.err.join('\n');
    expect(stderr).toMatch(/timed out after 10:00 waiting for Ready \+ Green \(last: Updating \/ Grey \/ old-version\)/);
    expect(stderr).toMatch(/WARN  Instance i-1 is taking longer/);
    // Polled every 5 s of (fake) time for 10 minutes.
    expect(eb.commandCalls(DescribeEnvironmentsCommand).length).toBeGreaterThan(100);
  });

  it('stops before building anything when the environment does not exist', async () => {
    const h = harness();
    eb.on(DescribeEnvironmentsCommand).resolves({ Environments: [] });
    expect(await h.run()).toBe(1);
    expect(h.err.join('\n')).toBe('deploy failed: unknown environment "hooklane-prod" (none by that name is running in this region)');
    expect(h.builds()).toBe(0);
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
  });

  it('explains missing credentials in one line, without a stack trace', async () => {
    const h = harness();
    const noCredentials = Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' });
    eb.on(DescribeEnvironmentsCommand).rejects(noCredentials);
    expect(await h.run()).toBe(1);
    expect(h.err).toHaveLength(1);
    expect(h.err[0]).toMatch(/^deploy failed: No usable AWS credentials \(Could not load credentials from any providers\)\. Sign in first/);
    expect(h.err[0]).not.toMatch(/\n\s+at /);
  });

  it('prints the plan with --dry-run and calls nothing', async () => {
    const h = harness();
    expect(await h.run('--dry-run')).toBe(0);
    expect(h.out.join('\n')).toMatch(/Deploy plan for environment hooklane-prod[\s\S]*create application version hooklane-test-1/);
    expect(eb.calls()).toHaveLength(0);
    expect(h.builds()).toBe(0);
  });

  it('--image deploys that image: the bundle pins it and nothing is built or pushed', async () => {
    const h = harness({ docker: false });
    environmentsSequence({ Status: 'Ready', Health: 'Green', VersionLabel: LABEL });
    expect(await h.run('--image', IMAGE)).toBe(0);
    expect(h.bundledImages).toEqual([IMAGE]);
    expect(h.pushedLabels).toEqual([]);
    expect(h.out.join('\n')).not.toMatch(/pushing the image/);
  });

  it('without --image, builds and pushes the image with the local engine, tagged with the version label, and bundles its digest', async () => {
    const h = harness({ docker: true });
    environmentsSequence({ Status: 'Ready', Health: 'Green', VersionLabel: LABEL });
    expect(await h.run()).toBe(0);
    expect(h.pushedLabels).toEqual([LABEL]);
    expect(h.bundledImages).toEqual([PUSHED]);
    expect(h.out.join('\n')).toMatch(/building and pushing the image\.\.\.\npushed .*@sha256:2b2b/);
  });

  it('without --image and without a Docker engine, stops with what to do, before uploading anything', async () => {
    const h = harness({ docker: false });
    environmentsSequence({ Status: 'Ready', Health: 'Green' });
    expect(await h.run()).toBe(1);
    expect(h.err.join('\n')).toMatch(/^deploy failed: no --image given and no Docker engine .*Pass --image <repository-uri>@sha256:<digest>/);
    expect(h.builds()).toBe(0);
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
    expect(eb.commandCalls(UpdateEnvironmentCommand)).toHaveLength(0);
  });

  it.each([
    ['a movable tag', '123456789012.dkr.ecr.eu-west-1.amazonaws.com/hooklane-prod:latest'],
    ['a truncated digest', '123456789012.dkr.ecr.eu-west-1.amazonaws.com/hooklane-prod@sha256:1a1a'],
  ])('exits 2 with the usage when --image names %s', async (_what, image) => {
    const h = harness();
    expect(await h.run('--image', image)).toBe(2);
    expect(h.err.join('\n')).toMatch(/--image must name an image by digest[\s\S]*Usage: npm run deploy/);
    expect(eb.calls()).toHaveLength(0);
  });

  describe('platform check', () => {
    const BRANCH = 'Docker running on 64bit Amazon Linux 2023';
    const arn = (v: string) => `arn:aws:elasticbeanstalk:eu-west-1::platform/${BRANCH}/${v}`;
    const onPlatform = (version: string, latest: string) => {
      environmentsSequence({ Status: 'Ready', Health: 'Green', VersionLabel: LABEL, PlatformArn: arn(version) });
      eb.on(DescribeEnvironmentsCommand).resolves({
        Environments: [environment({ Status: 'Ready', Health: 'Green', VersionLabel: LABEL, PlatformArn: arn(version) })],
      });
      eb.on(DescribePlatformVersionCommand, { PlatformArn: arn(version) }).resolves({
        PlatformDescription: { PlatformArn: arn(version), PlatformBranchName: BRANCH, PlatformVersion: version, SolutionStackName: `64bit Amazon Linux 2023 v${version} running Docker` },
      });
      eb.on(DescribePlatformVersionCommand, { PlatformArn: arn(latest) }).resolves({
        PlatformDescription: { PlatformArn: arn(latest), PlatformBranchName: BRANCH, PlatformVersion: latest, SolutionStackName: `64bit Amazon Linux 2023 v${latest} running Docker` },
      });
      eb.on(ListPlatformVersionsCommand).resolves({
        PlatformSummaryList: [{ PlatformArn: arn(latest), PlatformVersion: latest, PlatformBranchName: BRANCH, PlatformLifecycleState: 'Recommended' }],
      });
    };

    it('warns, and still deploys, when the environment runs an older platform version than the latest of its branch', async () => {
      const h = harness();
      onPlatform('4.9.3', '4.10.1');
      // A deploy started with the environment already Ready and Green on LABEL: the first poll ends it.
      expect(await h.run()).toBe(0);
      const printed = h.out.join('\n');
      expect(printed).toMatch(/warning: hooklane-prod runs platform 4\.9\.3; the latest of "Docker running on 64bit Amazon Linux 2023" is 4\.10\.1/);
      expect(printed).toMatch(/solutionStackName=64bit Amazon Linux 2023 v4\.10\.1 running Docker/);
      expect(eb.commandCalls(ListPlatformVersionsCommand)[0]!.args[0].input.Filters).toEqual(
        expect.arrayContaining([
          { Type: 'PlatformBranchName', Operator: '=', Values: [BRANCH] },
          { Type: 'PlatformLifecycleState', Operator: '=', Values: ['recommended'] },
        ]),
      );
    });

    it('says nothing when the environment is on the latest platform version', async () => {
      const h = harness();
      onPlatform('4.10.1', '4.10.1');
      expect(await h.run()).toBe(0);
      expect(h.out.join('\n')).not.toMatch(/warning/);
    });
  });

  it('exits 2 with the usage when --env is missing', async () => {
    const err: string[] = [];
    const code = await runDeployCli([], () => {
      throw new Error('must not build deps');
    }, { stdout: () => {}, stderr: (s) => err.push(s) });
    expect(code).toBe(2);
    expect(err.join('\n')).toMatch(/--env is required[\s\S]*Usage: npm run deploy/);
  });
});
