import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { HooklaneStack } from '../lib/hooklane-stack';
import { readSettings } from '../lib/settings';

// Runs under the CDK CLI (`cdk deploy`, context from cdk.json and -c) and on its own (`npm run synth`,
// offline, no credentials): cdk.json's context is the default either way, the CLI's values win.
const root = path.resolve(__dirname, '../..');
const defaults = JSON.parse(readFileSync(path.join(root, 'cdk.json'), 'utf8')).context as Record<string, unknown>;
const app = new App({ context: { ...defaults, ...contextFromArgs(process.argv.slice(2)) }, outdir: process.env.CDK_OUTDIR ?? path.join(root, 'cdk.out') });
const settings = readSettings(app);

const account = app.node.tryGetContext('account') ?? process.env.CDK_DEFAULT_ACCOUNT;
const region = app.node.tryGetContext('region') ?? process.env.CDK_DEFAULT_REGION;
new HooklaneStack(app, `Hooklane-${settings.stage}`, {
  // Without an account and region the stack is environment-agnostic and synthesizes without credentials.
  ...(account && region && { env: { account, region } }),
  description: `hooklane (${settings.stage}): Elastic Beanstalk web + worker, ElastiCache, CloudFront, CodePipeline`,
  settings,
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
const assembly = app.synth();

// cdk-nag reports through error annotations; a template with unacknowledged findings is not a result.
const errors = assembly.stacks.flatMap((s) => s.messages.filter((m) => m.level === 'error'));
for (const e of errors) process.stderr.write(`${e.id}: ${String(e.entry.data)}\n`);
if (errors.length > 0) process.exit(1);
process.stdout.write(`synthesized ${assembly.stacks.map((s) => s.stackName).join(', ')} into ${assembly.directory}\n`);

/** `-c key=value` / `--context key=value`, as the CDK CLI takes them. */
function contextFromArgs(args: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    if ((args[i] === '-c' || args[i] === '--context') && args[i + 1]?.includes('=')) {
      const [key, ...value] = args[++i]!.split('=');
      out[key!] = value.join('=');
    }
  }
  return out;
}
