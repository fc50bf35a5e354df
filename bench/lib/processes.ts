import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { waitForHttp } from '../../src/dev/wait-for-http';
import { SERVER_CPU, pinned } from './cpu';
import { repoRoot } from './repo-root';

export const ROOT = repoRoot();
/** The compiled bench (build/bench), where the baseline servers' .js files are. */
export const BENCH_BUILD = path.resolve(__dirname, '..');
let madeLogDir: string | undefined;
/** Where every benchmarked process writes its log; made on first use. */
export function logDir(): string {
  madeLogDir ??= mkdtempSync(path.join(tmpdir(), 'hooklane-bench-'));
  return madeLogDir;
}

export interface BenchProcess {
  name: string;
  child: ChildProcess;
  logFile: string;
  exited: Promise<void>;
  log(): string;
  /** CPU time (user + system) the process has used so far, in µs (Linux /proc; 0 elsewhere). */
  cpuMicros(): number;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

const CLOCK_TICKS_PER_S = 100;

function cpuMicrosOf(pid: number | undefined): number {
  try {
    // Fields 14 and 15 of /proc/<pid>/stat (utime, stime) in clock ticks; the name in () may hold spaces.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1_000_000) / CLOCK_TICKS_PER_S;
  } catch {
    return 0;
  }
}

/** Runs `node script` on the server core with its output in a log file (never a pipe nobody reads). */
export function startNode(name: string, script: string, env: Record<string, string>, cpu = SERVER_CPU): BenchProcess {
  const logFile = path.join(logDir(), `${name}.log`);
  const fd = openSync(logFile, 'a');
  const [command, ...args] = pinned(cpu, [process.execPath, script]);
  const child = spawn(command!, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH, NODE_ENV: 'production', ...env },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    name,
    child,
    logFile,
    exited,
    log: () => readFileSync(logFile, 'utf8'),
    cpuMicros: () => cpuMicrosOf(child.pid),
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(killer);
    },
  };
}

/** Starts an HTTP server process and waits until `readyPath` answers 200. */
export async function startHttpServer(
  name: string,
  script: string,
  port: number,
  env: Record<string, string>,
  readyPath = '/',
): Promise<BenchProcess & { url: string }> {
  const proc = startNode(name, script, { ...env, PORT: String(port), HOST: '127.0.0.1' });
  const url = `http://127.0.0.1:${port}`;
  try {
    const outcome = await Promise.race([
      waitForHttp(`${url}${readyPath}`, { timeoutMs: 60_000 }).then(() => 'ready' as const),
      proc.exited.then(() => 'exited' as const),
    ]);
    if (outcome === 'exited') throw new Error('it exited');
  } catch (err) {
    await proc.stop('SIGKILL');
    throw new Error(`${name} did not become ready: ${(err as Error).message}\n${proc.log().slice(-3000)}`);
  }
  return { ...proc, url };
}
