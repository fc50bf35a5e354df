import { parseArgs } from 'node:util';
import { assertImageByDigest } from '../build-bundle/bundle-compose';

export interface DeployOptions {
  readonly environment: string;
  readonly application?: string;
  readonly region?: string;
  readonly versionLabel?: string;
  /** The image to deploy, by digest; without it the CLI builds and pushes one with a local Docker engine. */
  readonly image?: string;
  /** Where to push an image built here (the stack output ImageRepositoryUri). */
  readonly repository?: string;
  readonly dryRun: boolean;
  readonly skipBuild: boolean;
  readonly timeoutMs: number;
  readonly pollIntervalMs: number;
}

export const USAGE = `Usage: npm run deploy -- --env <environment> [options]

Builds the Elastic Beanstalk bundle for an image in ECR, uploads it, creates an application version,
deploys it to the environment and waits until the environment is Ready and Green. Without --image, builds
the image with a local Docker engine and pushes it first (or stops if no engine is reachable).

  --env <name>          Elastic Beanstalk environment (e.g. hooklane-prod)        required
  --app <name>          application (default: the environment's own application)
  --region <region>     AWS region (default: AWS_REGION / your AWS profile)
  --label <label>       version label (default: hooklane-<git sha>-<UTC time>)
  --image <uri@digest>  deploy this image: <repository-uri>@sha256:<digest> (e.g. the pipeline's)
  --repository <uri>    ECR repository to push a locally built image to (stack output
                        ImageRepositoryUri; default: HOOKLANE_IMAGE_REPOSITORY)
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
        image: { type: 'string' },
        repository: { type: 'string' },
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
  if (values.image !== undefined) {
    try {
      assertImageByDigest(values.image);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  }
  return {
    environment: values.env,
    ...(values.image !== undefined && { image: values.image }),
    ...(values.repository !== undefined && { repository: values.repository }),
    ...(values.app !== undefined && { application: values.app }),
    ...(values.region !== undefined && { region: values.region }),
    ...(values.label !== undefined && { versionLabel: values.label }),
    dryRun: values['dry-run'],
    skipBuild: values['skip-build'],
    timeoutMs: minutes * 60_000,
    pollIntervalMs: POLL_INTERVAL_MS,
  };
}
