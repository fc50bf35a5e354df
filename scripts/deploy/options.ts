import { parseArgs } from 'node:util';

export interface DeployOptions {
  readonly environment: string;
  readonly application?: string;
  readonly region?: string;
  readonly versionLabel?: string;
  readonly dryRun: boolean;
  readonly skipBuild: boolean;
  readonly timeoutMs: number;
  readonly pollIntervalMs: number;
}

export const USAGE = `Usage: npm run deploy -- --env <environment> [options]

Builds the Elastic Beanstalk bundle, uploads it, creates an application version, deploys it to the
environment and waits until the environment is Ready and Green.

  --env <name>          Elastic Beanstalk environment (e.g. hooklane-prod)        required
  --app <name>          application (default: the environment's own application)
  --region <region>     AWS region (default: AWS_REGION / your AWS profile)
  --label <label>       version label (default: hooklane-<git sha>-<UTC time>)
  --timeout <minutes>   how long to wait for Ready + Green (default: 30)
  --skip-build          deploy build/hooklane-bundle.zip as it is
  --dry-run             print the plan; no build, no AWS calls
  --help                this text
`;

/** Bad command-line input; the CLI prints the usage with it. */
export class UsageError extends Error {}

const POLL_INTERVAL_MS = 5000;

export function parseDeployArgs(argv: string[]): DeployOptions | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        env: { type: 'string' },
        app: { type: 'string' },
        region: { type: 'string' },
        label: { type: 'string' },
        timeout: { type: 'string' },
        'skip-build': { type: 'boolean', default: false },
        'dry-run': { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) return 'help';
  if (!values.env) throw new UsageError('--env is required');
  const minutes = values.timeout === undefined ? 30 : Number(values.timeout);
  if (!Number.isFinite(minutes) || minutes <= 0) throw new UsageError('--timeout must be a positive number of minutes');
  if (values.label !== undefined && !/^[\w.-]{1,100}$/.test(values.label)) {
    throw new UsageError('--label: up to 100 letters, digits, ".", "_" or "-"');
  }
  return {
    environment: values.env,
    ...(values.app !== undefined && { application: values.app }),
    ...(values.region !== undefined && { region: values.region }),
    ...(values.label !== undefined && { versionLabel: values.label }),
    dryRun: values['dry-run'],
    skipBuild: values['skip-build'],
    timeoutMs: minutes * 60_000,
    pollIntervalMs: POLL_INTERVAL_MS,
  };
}
