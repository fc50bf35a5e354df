import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { freePort } from '../../src/dev/embedded-redis';
import { waitForHttp } from '../../src/dev/wait-for-http';

export const ROOT = path.resolve(__dirname, '..', '..');

export interface RunningProcess {
  child: ChildProcess;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves once a line containing `text` has been written. */
  waitForOutput(text: string, timeoutMs?: number): Promise<void>;
  kill(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Runs a built entry point (`dist/...`) the way the Procfile does. */
export function runNode(script: string, env: NodeJS.ProcessEnv): RunningProcess {
  const child = spawn(process.execPath, [path.join(ROOT, script)], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, NODE_ENV: 'test', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const listeners = new Set<() => void>();
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
    for (const listener of listeners) listener();
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    output: () => output,
    exited,
    waitForOutput: (text, timeoutMs = 30_000) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (output.includes(text)) {
            listeners.delete(check);
            clearTimeout(timer);
            resolve();
          }
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`no "${text}" in output within ${timeoutMs} ms:\n${output.slice(-4000)}`));
        }, timeoutMs);
        listeners.add(check);
        void exited.then(() => {
          if (!output.includes(text)) {
            listeners.delete(check);
            clearTimeout(timer);
            reject(new Error(`process exited before "${text}":\n${output.slice(-4000)}`));
          }
        });
        check();
      }),
    kill: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

export interface WebProcess extends RunningProcess {
  url: string;
}

export async function startWeb(env: NodeJS.ProcessEnv): Promise<WebProcess> {
  const port = await freePort();
  const web = runNode('dist/web/main.js', { ...env, PORT: String(port), HOST: '127.0.0.1' });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForHttp(`${url}/readyz`, { timeoutMs: 30_000 });
  } catch (err) {
    await web.kill('SIGKILL');
    throw new Error(`${(err as Error).message}\n${web.output()}`);
  }
  return { ...web, url };
}

export async function startWorker(env: NodeJS.ProcessEnv): Promise<RunningProcess> {
  const worker = runNode('dist/worker/main.js', env);
  await worker.waitForOutput('worker started');
  return worker;
}

export interface JobBody {
  state: string;
  progress: unknown;
  returnValue: unknown;
  attemptsMade: number;
  failedReason: string | null;
  logs: string[];
}

/** Where the jobs API is, and the API key to call it with. */
export interface JobsApi {
  url: string;
  apiKey: string;
}

/** Polls the jobs API until `predicate` holds (the API is the observable outcome). */
export async function waitForJob(
  { url, apiKey }: JobsApi,
  jobId: string,
  predicate: (job: JobBody) => boolean,
  timeoutMs = 30_000,
): Promise<JobBody> {
  const deadline = Date.now() + timeoutMs;
  let last: JobBody | undefined;
  while (Date.now() < deadline) {
    const res = await fetch(`${url}/api/jobs/${jobId}`, { headers: { authorization: `Bearer ${apiKey}` } }).catch(() => undefined);
    if (res?.status === 200) {
      last = (await res.json()) as JobBody;
      if (predicate(last)) return last;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`job ${jobId} did not reach the expected state; last seen ${JSON.stringify(last)}`);
}

export async function postJob({ url, apiKey }: JobsApi, body: unknown, headers: Record<string, string> = {}): Promise<string> {
  const res = await fetch(`${url}/api/jobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}`, ...headers },
    body: JSON.stringify(body),
  });
  if (res.status !== 202) throw new Error(`POST /api/jobs answered ${res.status}: ${await res.text()}`);
  return ((await res.json()) as { jobId: string }).jobId;
}

/** Whether a process with this pid still exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
