import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { waitForHttp } from './wait-for-http';

export interface StackExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** One web or worker slot; it keeps its name (and a web its port) across restarts. */
export interface StackInstance {
  name: string;
  type: 'web' | 'worker';
  port?: number;
  logFile: string;
  readonly child: ChildProcess;
  readonly pid: number;
  /** Resolves when the current process exits. */
  readonly exited: Promise<StackExit>;
  /** How many times the slot was started (1 = never replaced). */
  readonly starts: number;
  /** Sends `signal` to the current process and waits for it to exit. */
  kill(signal: NodeJS.Signals): Promise<StackExit>;
  /** Resolves when a process started after `since` is running (and, for a web, ready). */
  waitForReplacement(sinceStarts: number, timeoutMs?: number): Promise<void>;
  /** Stops the slot for good: SIGTERM, SIGKILL after `graceMs`, no replacement. */
  stop(graceMs?: number): Promise<void>;
}

export interface SlotSpec {
  name: string;
  type: 'web' | 'worker';
  argv: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  port?: number;
  logFile: string;
  respawn: () => boolean;
}

/** Runs one Procfile process in a slot, restarting it after an unexpected exit while `respawn()` holds. */
export function startSlot(spec: SlotSpec): StackInstance {
  let child!: ChildProcess;
  let exited!: Promise<StackExit>;
  let starts = 0;
  let stopping = false;
  const waiters = new Set<() => void>();
  const launch = () => {
    const [command, ...args] = spec.argv;
    const fd = openSync(spec.logFile, 'a');
    child = spawn(command!, args, { cwd: spec.cwd, env: spec.env, stdio: ['ignore', fd, fd] });
    closeSync(fd);
    starts += 1;
    exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    void exited.then(() => {
      if (!stopping && spec.respawn()) setTimeout(() => !stopping && spec.respawn() && launch(), 250);
    });
    for (const wake of waiters) wake();
  };
  launch();
  const instance: StackInstance = {
    name: spec.name,
    type: spec.type,
    ...(spec.port ? { port: spec.port } : {}),
    logFile: spec.logFile,
    get child() {
      return child;
    },
    get pid() {
      return child.pid ?? -1;
    },
    get exited() {
      return exited;
    },
    get starts() {
      return starts;
    },
    kill: async (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
    waitForReplacement: async (sinceStarts, timeoutMs = 30_000) => {
      const deadline = Date.now() + timeoutMs;
      while (starts <= sinceStarts) {
        if (Date.now() > deadline) throw new Error(`${spec.name} was not replaced within ${timeoutMs} ms`);
        await new Promise<void>((resolve) => {
          const wake = () => {
            waiters.delete(wake);
            resolve();
          };
          waiters.add(wake);
          setTimeout(wake, 100);
        });
      }
      if (spec.port) await waitForHttp(`http://127.0.0.1:${spec.port}/readyz`, { timeoutMs: Math.max(1000, deadline - Date.now()) });
    },
    stop: async (graceMs = 25_000) => {
      stopping = true;
      const killer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await instance.kill('SIGTERM');
      clearTimeout(killer);
    },
  };
  return instance;
}

