import {
  DescribePlatformVersionCommand,
  ListPlatformVersionsCommand,
  type ElasticBeanstalkClient,
  type EnvironmentDescription,
} from '@aws-sdk/client-elastic-beanstalk';

/**
 * Managed platform updates apply patch versions only (infra/lib/app.ts: a minor version can change the
 * Docker version), so an environment falls behind its branch's minor versions, and the solutionStackName
 * in cdk.json ages until EB retires it and a new environment can no longer be created from it. Says so
 * on every deploy; never fails one (a missing permission only skips the check).
 */
export async function warnIfPlatformIsBehind(
  eb: ElasticBeanstalkClient,
  env: EnvironmentDescription,
  print: (line: string) => void,
): Promise<void> {
  if (!env.PlatformArn) return;
  try {
    const current = (await eb.send(new DescribePlatformVersionCommand({ PlatformArn: env.PlatformArn })))?.PlatformDescription;
    const branch = current?.PlatformBranchName;
    if (!branch) return;
    const { PlatformSummaryList = [] } =
      (await eb.send(
        new ListPlatformVersionsCommand({
          Filters: [
            { Type: 'PlatformBranchName', Operator: '=', Values: [branch] },
            { Type: 'PlatformLifecycleState', Operator: '=', Values: ['recommended'] },
          ],
        }),
      )) ?? {};
    const latest = PlatformSummaryList[0];
    if (!latest?.PlatformArn || latest.PlatformArn === env.PlatformArn) return;
    const latestStack = (await eb.send(new DescribePlatformVersionCommand({ PlatformArn: latest.PlatformArn })))?.PlatformDescription
      ?.SolutionStackName;
    print(
      `warning: ${env.EnvironmentName} runs platform ${current.PlatformVersion}; the latest of "${branch}" is ${latest.PlatformVersion}. ` +
        'Managed updates apply patches only: update the platform (EB console, or aws elasticbeanstalk update-environment ' +
        `--platform-arn ${latest.PlatformArn}) and set cdk.json's solutionStackName=${latestStack ?? '(see list-available-solution-stacks)'}`,
    );
  } catch (err) {
    print(`note: platform check skipped (${(err as Error).name}: ${(err as Error).message})`);
  }
}
