import { readFileSync } from 'node:fs';
import {
  CreateApplicationVersionCommand,
  CreateStorageLocationCommand,
  DescribeApplicationVersionsCommand,
  UpdateEnvironmentCommand,
  type ElasticBeanstalkClient,
} from '@aws-sdk/client-elastic-beanstalk';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { DeployError } from './errors';
import { describe, watchDeployment, type Runtime } from './environment-watch';
import { warnIfPlatformIsBehind } from './platform-check';
import type { DeployOptions } from './options';

export interface DeployDeps extends Runtime {
  readonly eb: ElasticBeanstalkClient;
  readonly s3: S3Client;
  /** Builds the bundle for `image` (or finds it, with --skip-build) and returns the zip's path. */
  readonly buildBundle: (image: string | undefined) => Promise<string>;
  /**
   * Without --image: builds the image with a local Docker engine, pushes it to ECR tagged `label` and
   * returns it by digest; rejects with a DeployError saying what to do when no engine is reachable.
   */
  readonly buildAndPushImage: (label: string) => Promise<string>;
  /** Default version label when --label is absent. */
  readonly defaultVersionLabel: () => string;
}

/** The steps, printed by --dry-run and followed by a real run. */
export function describePlan(options: DeployOptions, label: string): string[] {
  return [
    `Deploy plan for environment ${options.environment}${options.region ? ` (${options.region})` : ''}:`,
    `  1. ${
      options.skipBuild
        ? 'use the existing build/hooklane-bundle.zip'
        : options.image
          ? `build build/hooklane-bundle.zip for ${options.image}`
          : `build the image with the local Docker engine, push it to ECR as ${label}, then build build/hooklane-bundle.zip for it`
    }`,
    `  2. upload it to the Elastic Beanstalk storage bucket as <application>/${label}.zip`,
    `  3. create application version ${label} (EB validates the bundle)`,
    `  4. update ${options.environment} to ${label} (rolling with an additional batch, from .ebextensions)`,
    `  5. stream events until Ready + Green; fail on Red, rollback or ${options.timeoutMs / 60_000} min`,
  ];
}

/** Runs the plan; resolves when the environment is Ready and Green on the new version. */
export async function deployVersion(options: DeployOptions, deps: DeployDeps): Promise<{ versionLabel: string }> {
  const label = options.versionLabel ?? deps.defaultVersionLabel();
  if (options.dryRun) {
    for (const line of describePlan(options, label)) deps.print(line);
    return { versionLabel: label };
  }
  // Checked first so that a typo fails in a second, not after a build and an upload.
  const env = await describe(deps.eb, options.environment);
  const application = options.application ?? env.ApplicationName;
  if (!application) throw new DeployError(`cannot tell the application of ${options.environment}; pass --app`);
  if (env.Status !== 'Ready') throw new DeployError(`${options.environment} is ${env.Status}; wait until it is Ready`);
  await warnIfPlatformIsBehind(deps.eb, env, deps.print);

  let image = options.image;
  if (!options.skipBuild && !image) {
    deps.print('building and pushing the image...');
    image = await deps.buildAndPushImage(label);
    deps.print(`pushed ${image}`);
  }
  deps.print(`building the bundle...`);
  const zipPath = await deps.buildBundle(image);
  const { S3Bucket } = await deps.eb.send(new CreateStorageLocationCommand({}));
  if (!S3Bucket) throw new DeployError('Elastic Beanstalk returned no storage bucket');
  const key = `${application}/${label}.zip`;
  deps.print(`uploading s3://${S3Bucket}/${key}`);
  await deps.s3.send(new PutObjectCommand({ Bucket: S3Bucket, Key: key, Body: readFileSync(zipPath), ContentType: 'application/zip' }));

  deps.print(`creating application version ${label}`);
  await deps.eb.send(
    new CreateApplicationVersionCommand({
      ApplicationName: application,
      VersionLabel: label,
      SourceBundle: { S3Bucket, S3Key: key },
      Process: true,
      Description: `npm run deploy ${new Date(deps.now()).toISOString()}`,
    }),
  );
  await waitForProcessedVersion(deps, application, label, options);

  const since = new Date(deps.now());
  deps.print(`updating ${options.environment} to ${label}`);
  await deps.eb.send(new UpdateEnvironmentCommand({ EnvironmentName: options.environment, VersionLabel: label }));
  await watchDeployment(
    deps.eb,
    { environmentName: options.environment, versionLabel: label, since, timeoutMs: options.timeoutMs, pollIntervalMs: options.pollIntervalMs },
    deps,
  );
  deps.print(`${options.environment} is Ready and Green on ${label}`);
  return { versionLabel: label };
}

/** Process: true makes EB validate the bundle (.ebextensions syntax) before any instance sees it. */
async function waitForProcessedVersion(deps: DeployDeps, application: string, label: string, options: DeployOptions): Promise<void> {
  const started = deps.now();
  for (;;) {
    const { ApplicationVersions = [] } = await deps.eb.send(
      new DescribeApplicationVersionsCommand({ ApplicationName: application, VersionLabels: [label] }),
    );
    const status = ApplicationVersions[0]?.Status;
    if (status === 'Processed') return;
    if (status === 'Failed') throw new DeployError(`Elastic Beanstalk rejected the bundle for version ${label} (status Failed)`);
    if (deps.now() - started >= options.timeoutMs) throw new DeployError(`timed out waiting for version ${label} to be processed`);
    await deps.sleep(options.pollIntervalMs);
  }
}

