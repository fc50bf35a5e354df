// Installs what `npm start` and `npm test` need on a fresh Debian machine with only Node and npm,
// or stops with a message that says exactly what to install. Plain Node: it runs before `npm ci`.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';

export const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');

export function say(line) {
  process.stdout.write(`[hooklane] ${line}\n`);
}

export function fail(message) {
  process.stderr.write(`\n[hooklane] ${message}\n\n`);
  process.exit(1);
}

export function run(command, args, options = {}) {
  const result = spawnSync(command, args, { stdio: 'inherit', cwd: root, ...options });
  if (result.error) fail(`could not run ${command}: ${result.error.message}`);
  return result.status ?? 1;
}

export function checkNode() {
  const [major, minor] = process.versions.node.split('.').map(Number);
  if (major < 20 || (major === 20 && minor < 19) || (major === 22 && minor < 12) || major === 21) {
    fail(`Node ${process.versions.node} is too old: install Node 20.19+ (or 22.12+).`);
  }
}

/** `npm ci` when node_modules is missing or older than package-lock.json. */
export function ensureNodeModules(dir = root) {
  const marker = path.join(dir, 'node_modules', '.package-lock.json');
  const lock = path.join(dir, 'package-lock.json');
  if (existsSync(marker) && statSync(marker).mtimeMs >= statSync(lock).mtimeMs) return;
  say(`installing npm dependencies in ${path.relative(root, dir) || '.'} (npm ci)...`);
  if (run('npm', ['ci', '--no-audit', '--no-fund'], { cwd: dir }) !== 0) fail(`npm ci failed in ${dir}`);
}

function onPath(binary) {
  return spawnSync('sh', ['-c', `command -v ${binary}`], { encoding: 'utf8' }).stdout.trim() !== '' ||
    ['/usr/bin', '/usr/sbin', '/usr/local/bin'].some((dir) => existsSync(path.join(dir, binary)));
}

/**
 * Debian packages the project needs, by the binary that proves each is there.
 * redis-server: embedded Redis; chromium: the console's browser tests; haproxy: the local stack;
 * docker/dockerd: the engine the container tests run the image in; debootstrap: the root filesystem of
 * the base-image stand-in (scripts/container/).
 */
export const APT_PACKAGES = {
  'redis-server': 'redis-server',
  chromium: 'chromium',
  haproxy: 'haproxy',
  zip: 'zip',
  unzip: 'unzip',
  docker: 'docker.io',
  dockerd: 'docker.io',
  debootstrap: 'debootstrap',
};

/** Whether a Docker daemon answers already (CodeBuild's, a developer's); then dockerd is not needed. */
export function dockerReachable() {
  return spawnSync('docker', ['info', '--format', '{{.ServerVersion}}'], { stdio: 'ignore' }).status === 0;
}

/** Installs the Debian packages whose binaries are missing, or stops saying what to install. */
export function ensureBinaries(binaries, why) {
  const missing = binaries.filter((b) => !onPath(b));
  if (missing.length === 0) return;
  const packages = [...new Set(missing.map((b) => APT_PACKAGES[b] ?? b))];
  const canApt = process.getuid?.() === 0 && onPath('apt-get');
  if (!canApt) {
    fail(`${why} needs ${missing.join(', ')}. Install with: sudo apt-get install -y ${packages.join(' ')}`);
  }
  say(`installing ${packages.join(' ')} with apt-get (${why})...`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (run('apt-get', ['update', '-q'], { env }) !== 0 ||
      run('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...packages], { env }) !== 0) {
    fail(`apt-get could not install ${packages.join(' ')}. Install them yourself: apt-get install -y ${packages.join(' ')}`);
  }
  const still = binaries.filter((b) => !onPath(b));
  if (still.length) fail(`${still.join(', ')} still missing after apt-get install ${packages.join(' ')}`);
}
