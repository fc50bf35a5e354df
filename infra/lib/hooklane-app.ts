import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { HooklaneStack } from './hooklane-stack';
import { readSettings } from './settings';

export interface HooklaneAppProps {
  readonly context: Record<string, unknown>;
  readonly outdir: string;
}

/**
 * The app as `cdk synth`, `npm run synth` and the tests build it: one stack per stage, checked by
 * cdk-nag's AwsSolutions pack at synthesis (an unacknowledged finding fails `app.synth()`).
 */
export function createHooklaneApp(props: HooklaneAppProps): { app: App; stack: HooklaneStack } {
  const app = new App({ context: props.context, outdir: props.outdir });
  const settings = readSettings(app);
  const account = app.node.tryGetContext('account') ?? process.env.CDK_DEFAULT_ACCOUNT;
  const region = app.node.tryGetContext('region') ?? process.env.CDK_DEFAULT_REGION;
  const stack = new HooklaneStack(app, `Hooklane-${settings.stage}`, {
    // Without an account and region the stack is environment-agnostic and synthesizes without credentials.
    ...(account && region && { env: { account, region } }),
    description: `hooklane (${settings.stage}): Elastic Beanstalk web + worker, ElastiCache, CloudFront, CodePipeline`,
    settings,
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack };
}
