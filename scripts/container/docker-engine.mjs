// A Docker engine for the container tests, on any machine `npm test` runs on. Plain Node (runs before
// `npm ci` is guaranteed). When a daemon is already reachable (CodeBuild in privileged mode, a developer's
// Docker Desktop), it is used as it is. Otherwise Debian's dockerd is started as root with no bridge and
// no iptables rules: containers then run with host networking only, so their traffic stays on loopback,
// and the daemon touches nothing in the host's network configuration.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';

export const CACHE_DIR = process.env.HOOKLANE_CACHE_DIR ?? path.join(homedir(), '.cache', 'hooklane');
const SOCKET = '/run/hooklane-docker.sock';
const PIDFILE = '/run/hooklane-docker.pid';
const START_TIMEOUT_MS = 60_000;

/** Runs the docker CLI; returns { status, stdout, stderr }. */
export function docker(args, { env = process.env, input, inherit = false } = {}) {
  const result = spawnSync('docker', args, {
    env,
    input,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    stdio: inherit ? ['pipe', 'inherit', 'inherit'] : 'pipe',
  });
  if (result.error) throw new Error(`could not run docker: ${result.error.message}`);
  return { status: result.status ?? 1, stdout: result.stdout ?? '', stderr: result.stderr ?? '' };
}

function reachable(env) {
  return docker(['info', '--format', '{{.ServerVersion}}'], { env }).status === 0;
}

function pidAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * A reachable Docker daemon. Resolves to `{ env, started, stop }`: `env` carries DOCKER_HOST for every
 * docker command and child test process; `stop()` ends the daemon only if this call started it.
 */
export async function ensureDockerDaemon() {
  if (reachable(process.env)) return { env: { ...process.env }, started: false, stop: () => {} };
  const env = { ...process.env, DOCKER_HOST: `unix://${SOCKET}` };
  if (reachable(env)) return { env, started: false, stop: () => {} };
  if (process.getuid?.() !== 0) {
    throw new Error('the container tests need a Docker engine: start one (docker info must work), or run npm test as root so it can start dockerd');
  }
  // A daemon of ours left from a run that was killed: its pidfile would stop a new one from starting.
  if (existsSync(PIDFILE)) {
    const pid = Number(readFileSync(PIDFILE, 'utf8'));
    if (!pid || !pidAlive(pid)) rmSync(PIDFILE, { force: true });
  }
  mkdirSync(CACHE_DIR, { recursive: true });
  const log = openSync(path.join(CACHE_DIR, 'dockerd.log'), 'a');
  const daemon = spawn(
    'dockerd',
    [
      '--bridge=none',
      '--iptables=false',
      '--ip-masq=false',
      `--data-root=${path.join(CACHE_DIR, 'docker')}`,
      '--exec-root=/run/hooklane-docker',
      `--pidfile=${PIDFILE}`,
      `--host=unix://${SOCKET}`,
    ],
    { detached: true, stdio: ['ignore', log, log] },
  );
  daemon.unref();
  const exited = new Promise((resolve) => daemon.once('exit', resolve));
  let gone = false;
  void exited.then(() => (gone = true));
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!reachable(env)) {
    if (gone || Date.now() > deadline) {
      if (!gone) daemon.kill('SIGTERM');
      throw new Error(`dockerd did not start; see ${path.join(CACHE_DIR, 'dockerd.log')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const stop = async () => {
    if (gone) return;
    daemon.kill('SIGTERM');
    const timer = setTimeout(() => daemon.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(timer);
  };
  return { env, started: true, stop };
}
