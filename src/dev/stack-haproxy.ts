import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { writeFileSync } from 'node:fs';
import path from 'node:path';

export interface HaproxyBackend {
  name: string;
  port: number;
}

export interface HaproxyOptions {
  /** Where the config file and the admin socket live. */
  dir: string;
  frontPort: number;
  statsPort: number;
  backends: HaproxyBackend[];
  /** Health check interval; the ALB's is 5-300 s, locally 1 s keeps tests and chaos runs short. */
  checkIntervalMs?: number;
  /** How long a check may take (default 1 s, /readyz's own Redis deadline); CI machines under load need more. */
  checkTimeoutMs?: number;
}

/**
 * A config that behaves like the ALB in front of Elastic Beanstalk:
 * - round robin over every healthy web instance, keep-alive to the backends;
 * - health checks on /readyz: a backend turns DOWN after 2 failed checks (it answers 503 from the moment
 *   its shutdown starts) and gets no new requests, while requests it is already serving finish (draining);
 * - a request whose connection to a backend fails (refused: the instance has closed its listener) is
 *   retried on another backend (`option redispatch 1`), so an instance leaving never costs a request;
 *   the refusal also marks that backend DOWN at once (passive check), until /readyz passes again.
 *   `empty-response` retries the requests a backend dropped without answering (an idle keep-alive
 *   connection closed at the moment it was reused, or a crash): safe for the webhook intake, which is
 *   idempotent by event id, and what Stripe itself would do a few seconds later.
 */
export function renderHaproxyConfig(options: HaproxyOptions): string {
  const inter = options.checkIntervalMs ?? 1000;
  const servers = options.backends.map(
    (b) => `  server ${b.name} 127.0.0.1:${b.port} check`,
  );
  return [
    'global',
    '  maxconn 4096',
    // Like ALB access logs, but only for requests that went wrong (logs/haproxy.log in the stack's folder).
    '  log stderr format raw local0',
    `  stats socket ${path.join(options.dir, 'haproxy.sock')} mode 600 level admin`,
    '',
    'defaults',
    '  mode http',
    '  log global',
    '  option httplog',
    '  option dontlog-normal',
    '  timeout connect 1s',
    // Longer than the web's own requestTimeout (30 s) so a slow client meets the web's answer, not a 504.
    '  timeout client 65s',
    '  timeout server 35s',
    '  timeout http-request 31s',
    '  timeout http-keep-alive 60s',
    '  timeout queue 5s',
    `  timeout check ${options.checkTimeoutMs ?? 1000}ms`,
    '  retries 3',
    '  option redispatch 1',
    '  retry-on conn-failure empty-response',
    '  option forwardfor',
    '  http-reuse safe',
    '',
    'frontend front',
    `  bind 127.0.0.1:${options.frontPort}`,
    '  default_backend web',
    '',
    'backend web',
    '  balance roundrobin',
    '  option httpchk',
    '  http-check send meth GET uri /readyz',
    '  http-check expect status 200',
    // Passive checks too: a refused connection marks the server DOWN at once (a crashed instance), so retries
    // and new requests stop going to it before the next active check.
    `  default-server inter ${inter} fastinter ${Math.max(100, Math.round(inter / 4))} downinter ${inter} fall 2 rise 2 observe layer4 error-limit 1 on-error mark-down`,
    ...servers,
    '',
    'listen stats',
    `  bind 127.0.0.1:${options.statsPort}`,
    '  stats enable',
    '  stats uri /',
    '  stats refresh 2s',
    '',
  ].join('\n');
}

export interface RunningHaproxy {
  child: ChildProcess;
  configFile: string;
  /** Server name to HAProxy's view of it (UP, DOWN, MAINT, "UP 1/2"...). */
  serverStates(): Promise<Record<string, string>>;
  /**
   * Takes a web server out of rotation (`maint`) or puts it back (`ready`), through the admin socket. With
   * every server in maintenance HAProxy answers 503 itself, as an ALB with no healthy target does.
   */
  setServerState(name: string, state: 'maint' | 'ready'): Promise<void>;
  stop(): Promise<void>;
}

export function findHaproxy(): string | undefined {
  const found = spawnSync('sh', ['-c', 'command -v haproxy || ls /usr/sbin/haproxy 2>/dev/null'], { encoding: 'utf8' });
  return found.stdout.trim().split('\n')[0] || undefined;
}

/** One command on HAProxy's admin socket. */
export function haproxyCommand(socketPath: string, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath);
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk.toString()));
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
    socket.write(`${command}\n`);
  });
}

function parseServerStates(csv: string): Record<string, string> {
  const states: Record<string, string> = {};
  for (const line of csv.split('\n')) {
    const [proxy, server, , , , , , , , , , , , , , , , status] = line.split(',');
    if (proxy === 'web' && server && server !== 'BACKEND' && status) states[server] = status;
  }
  return states;
}

/** Starts HAProxy in the foreground (`-db`) with `options`; stops it with SIGUSR1 (soft stop: drains). */
export async function startHaproxy(options: HaproxyOptions, logFd: number | 'ignore' = 'ignore'): Promise<RunningHaproxy> {
  const binary = findHaproxy();
  if (!binary) throw new Error('haproxy not found: install it (apt-get install haproxy)');
  const configFile = path.join(options.dir, 'haproxy.cfg');
  writeFileSync(configFile, renderHaproxyConfig(options));
  const check = spawnSync(binary, ['-c', '-q', '-f', configFile], { encoding: 'utf8' });
  if (check.status !== 0) throw new Error(`haproxy rejected ${configFile}:\n${check.stderr}${check.stdout}`);
  const child = spawn(binary, ['-db', '-f', configFile], { stdio: ['ignore', logFd, logFd] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const socketPath = path.join(options.dir, 'haproxy.sock');
  const haproxy: RunningHaproxy = {
    child,
    configFile,
    serverStates: async () => parseServerStates(await haproxyCommand(socketPath, 'show stat')),
    setServerState: async (name, state) => {
      if (!/^[A-Za-z0-9_-]+$/.test(name)) throw new Error(`not a server name: ${name}`);
      const answer = (await haproxyCommand(socketPath, `set server web/${name} state ${state}`)).trim();
      if (answer) throw new Error(`haproxy: ${answer}`);
    },
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGUSR1');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(killer);
    },
  };
  await waitForSocket(haproxy, child);
  return haproxy;
}

async function waitForSocket(haproxy: RunningHaproxy, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`haproxy exited with ${child.exitCode} at start`);
    try {
      await haproxy.serverStates();
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  throw new Error('haproxy admin socket did not open within 10 s');
}
