import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { argsOf, contextFilter, dockerfile, keyword, repoRoot, type DockerStage } from './repo-artifacts';

/**
 * Replays the Dockerfile without a Docker engine: each stage is a directory standing for its /app,
 * COPY takes only what .dockerignore lets into the build context, RUN runs with the stage's ENV.
 * Supports exactly the instructions hooklane's Dockerfile uses, and fails on anything else, so the
 * replay can never silently drift from the file. apt-get lines need root on a Debian image and are
 * skipped (their effect, tini, is checked by parsing).
 */
export interface ReplayedImage {
  /** The runtime stage's /app. */
  appDir: string;
  env: Record<string, string>;
  entrypoint: string[];
  cmd: string[];
}

const WORKDIR = '/app';
const BUILD_ONLY = new Set(['ARG', 'USER', 'EXPOSE', 'STOPSIGNAL', 'HEALTHCHECK', 'ENTRYPOINT', 'CMD']);

/** Files under `rel` (or `rel` itself), relative to `root`. */
function filesUnder(root: string, rel: string): string[] {
  const abs = path.join(root, rel);
  if (!statSync(abs).isDirectory()) return [rel];
  return readdirSync(abs).flatMap((name) => filesUnder(root, path.posix.join(rel, name)));
}

/**
 * Docker's COPY: a file lands at `dest` (or `dest/<name>` when `dest` ends with "/" or there are several
 * sources); a directory's contents land under `dest`. From the context, only files .dockerignore admits.
 */
function copy(fromRoot: string, sources: string[], dest: string, stageDir: string, admit: (f: string) => boolean): void {
  const target = path.join(stageDir, path.posix.relative(WORKDIR, path.posix.resolve(WORKDIR, dest)));
  const intoDir = dest.endsWith('/') || sources.length > 1;
  for (const source of sources) {
    const rel = fromRoot === repoRoot ? source : path.posix.relative(WORKDIR, source);
    const isDir = statSync(path.join(fromRoot, rel)).isDirectory();
    const files = filesUnder(fromRoot, rel).filter((f) => fromRoot !== repoRoot || admit(f));
    if (files.length === 0) throw new Error(`COPY ${source}: nothing of it is in the build context (.dockerignore)`);
    for (const file of files) {
      const out = isDir
        ? path.join(target, path.posix.relative(rel, file))
        : intoDir
          ? path.join(target, path.basename(file))
          : target;
      mkdirSync(path.dirname(out), { recursive: true });
      cpSync(path.join(fromRoot, file), out);
    }
  }
}

export function replayDockerfile(workDir: string, log: (line: string) => void = () => {}): ReplayedImage {
  const { stages } = dockerfile();
  const inContext = contextFilter();
  const dirs = new Map<string, string>();
  const envs = new Map<string, Record<string, string>>();
  let last: { dir: string; env: Record<string, string>; stage: DockerStage } | undefined;
  // The base image's /app is empty: stages FROM it start from an empty directory.

  for (const stage of stages) {
    const parent = dirs.get(stage.base);
    const dir = path.join(workDir, stage.name);
    if (parent) cpSync(parent, dir, { recursive: true });
    else mkdirSync(dir, { recursive: true });
    const env: Record<string, string> = { ...(envs.get(stage.base) ?? {}) };
    for (const i of stage.instructions) {
      const word = i.getKeyword();
      if (word === 'WORKDIR') {
        if (argsOf(i)[0] !== WORKDIR) throw new Error(`WORKDIR ${argsOf(i)[0]}: the replay maps only ${WORKDIR}`);
      } else if (word === 'ENV') {
        for (const a of argsOf(i)) env[a.slice(0, a.indexOf('='))] = a.slice(a.indexOf('=') + 1);
      } else if (word === 'COPY') {
        const from = (i as unknown as { getFromFlag(): { getValue(): string } | undefined }).getFromFlag()?.getValue();
        const parts = argsOf(i);
        copy(from ? dirs.get(from)! : repoRoot, parts.slice(0, -1), parts.at(-1)!, dir, inContext);
      } else if (word === 'RUN') {
        const command = i.getArgumentsContent()!;
        if (/apt-get/.test(command)) continue;
        log(`[${stage.name}] RUN ${command}`);
        const result = spawnSync('sh', ['-c', command], { cwd: dir, env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env }, encoding: 'utf8' });
        if (result.status !== 0) throw new Error(`[${stage.name}] RUN ${command} failed:\n${result.stdout}\n${result.stderr}`);
      } else if (!BUILD_ONLY.has(word)) {
        throw new Error(`${word}: not supported by the Dockerfile replay`);
      }
    }
    dirs.set(stage.name, dir);
    envs.set(stage.name, env);
    last = { dir, env, stage };
  }
  if (!last || !existsSync(last.dir)) throw new Error('no stages');
  const json = (word: string) => JSON.parse(keyword(last!.stage, word)[0]!.getArgumentsContent()!) as string[];
  return { appDir: last.dir, env: last.env, entrypoint: json('ENTRYPOINT'), cmd: json('CMD') };
}
