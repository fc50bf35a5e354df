import type { Logger } from './logger';

/** Shared by the web and worker entry points: is this process on its way out? */
export class Lifecycle {
  #shuttingDown = false;
  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }
  beginShutdown(): void {
    this.#shuttingDown = true;
  }
}

export interface ShutdownStep {
  name: string;
  run: () => Promise<unknown> | unknown;
}

/**
 * Runs every step in order even if one fails (as BullMQ's Worker.close does), and reports which failed.
 * Resolves to the names of the failed steps.
 */
export async function runShutdownSteps(steps: ShutdownStep[], logger: Logger): Promise<string[]> {
  const failed: string[] = [];
  for (const step of steps) {
    try {
      await step.run();
      logger.debug({ step: step.name }, 'shutdown step done');
    } catch (err) {
      failed.push(step.name);
      logger.error({ err, step: step.name }, 'shutdown step failed');
    }
  }
  return failed;
}

/**
 * Wires SIGTERM/SIGINT to `shutdown` once, with a hard deadline: a process that cannot finish in time exits 1
 * rather than being SIGKILLed by the platform with nothing logged.
 */
export function onTerminationSignals(
  logger: Logger,
  deadlineMs: number,
  shutdown: (signal: string) => Promise<string[]>,
): void {
  let started = false;
  const handle = (signal: NodeJS.Signals) => {
    if (started) return;
    started = true;
    logger.info({ signal }, 'shutdown started');
    const hardStop = setTimeout(() => {
      logger.fatal({ deadlineMs }, 'shutdown did not finish in time; exiting');
      process.exit(1);
    }, deadlineMs);
    hardStop.unref();
    shutdown(signal).then(
      (failed) => {
        logger.info({ failedSteps: failed }, failed.length ? 'shutdown finished with errors' : 'shutdown complete');
        logger.flush?.();
        process.exit(failed.length ? 1 : 0);
      },
      (err: unknown) => {
        logger.fatal({ err }, 'shutdown crashed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', handle);
  process.on('SIGINT', handle);
}

/** Last resort: an error nobody caught is logged as fatal and the process exits for the platform to restart it. */
export function exitOnUncaught(logger: Logger): void {
  process.on('uncaughtException', (err) => {
    logger.fatal({ err }, 'uncaught exception');
    process.exit(1);
  });
  process.on('unhandledRejection', (err) => {
    logger.fatal({ err }, 'unhandled rejection');
    process.exit(1);
  });
}
