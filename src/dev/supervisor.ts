import { spawn, type ChildProcess } from 'node:child_process';

export interface Supervised {
  name: string;
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends `signal` (SIGTERM by default) and waits; SIGKILL after `graceMs`. */
  stop(graceMs?: number, signal?: NodeJS.Signals): Promise<void>;
}

/** Starts a child with its stdio passed through, as a platform process manager would. */
export function supervise(name: string, argv: string[], env: NodeJS.ProcessEnv, cwd = process.cwd()): Supervised {
  const [command, ...args] = argv;
  if (!command) throw new Error(`process ${name} has no command`);
  const child = spawn(command, args, { env, cwd, stdio: ['ignore', 'inherit', 'inherit'] });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    name,
    child,
    exited,
    stop: async (graceMs = 30_000, signal = 'SIGTERM') => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      const killer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(killer);
    },
  };
}

/** Stops every process, all at once, and waits for all of them. */
export async function stopAll(processes: Supervised[], graceMs?: number): Promise<void> {
  await Promise.allSettled(processes.map((p) => p.stop(graceMs)));
}
