import { DeployError, explainAwsSetupError } from './errors';
import { deployVersion, type DeployDeps } from './deploy-version';
import { parseDeployArgs, USAGE, UsageError, type DeployOptions } from './options';

export interface CliIo {
  readonly stdout: (line: string) => void;
  readonly stderr: (line: string) => void;
}

/**
 * `npm run deploy -- ...` without process globals: returns the exit code. Failures print one clear
 * message (and the EB events behind it), never a stack trace; DEBUG=1 adds the stack for bug reports.
 */
export async function runDeployCli(
  argv: string[],
  makeDeps: (options: DeployOptions) => DeployDeps,
  io: CliIo,
  debug = false,
): Promise<number> {
  let options: DeployOptions;
  try {
    const parsed = parseDeployArgs(argv);
    if (parsed === 'help') {
      io.stdout(USAGE);
      return 0;
    }
    options = parsed;
  } catch (err) {
    io.stderr(`deploy: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  try {
    await deployVersion(options, makeDeps(options));
    return 0;
  } catch (err) {
    io.stderr(describeFailure(err));
    if (debug && err instanceof Error && err.stack) io.stderr(err.stack);
    return 1;
  }
}

function describeFailure(err: unknown): string {
  if (err instanceof DeployError) {
    const events = err.events.length ? `\nWarnings and errors from Elastic Beanstalk:\n${err.events.map((e) => `  ${e}`).join('\n')}` : '';
    return `deploy failed: ${err.message}${events}`;
  }
  const setup = explainAwsSetupError(err);
  if (setup) return `deploy failed: ${setup}`;
  const e = err instanceof Error ? err : new Error(String(err));
  return `deploy failed: ${e.name}: ${e.message}`;
}
