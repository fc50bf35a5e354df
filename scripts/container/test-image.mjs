// The image the container tests run: built once per `npm test` from the Dockerfile, or the one named by
// HOOKLANE_TEST_IMAGE (the pipeline builds the real one first, tests it, then pushes that exact image).
// Where no image registry is reachable, the Dockerfile's base is replaced through its NODE_IMAGE build
// argument by a stand-in of the same Node version (base-image-standin.mjs).
// Run directly (`node scripts/container/test-image.mjs`) it prints {"image","dockerHost"} as JSON and
// leaves a daemon it started running, for `npx jest test/container` without `npm test`.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ensureBaseStandin } from './base-image-standin.mjs';
import { docker, ensureDockerDaemon } from './docker-engine.mjs';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
export const TEST_IMAGE_TAG = 'hooklane:test';

/** The Dockerfile's default NODE_IMAGE build argument. */
export function dockerfileBaseImage() {
  const match = /^ARG NODE_IMAGE=(\S+)$/m.exec(readFileSync(path.join(root, 'Dockerfile'), 'utf8'));
  if (!match) throw new Error('Dockerfile: no ARG NODE_IMAGE=<image>');
  return match[1];
}

/** Resolves to { image, env, stop }: `env` has DOCKER_HOST; `stop()` ends a daemon this started. */
export async function prepareTestImage({ log = (line) => process.stdout.write(`[hooklane] ${line}\n`) } = {}) {
  const engine = await ensureDockerDaemon();
  try {
    const given = process.env.HOOKLANE_TEST_IMAGE;
    if (given) {
      if (docker(['image', 'inspect', given], { env: engine.env }).status !== 0) throw new Error(`HOOKLANE_TEST_IMAGE=${given} is not an image this Docker engine has`);
      return { image: given, ...engine };
    }
    const standin = ensureBaseStandin(engine.env, dockerfileBaseImage());
    log(`building ${TEST_IMAGE_TAG} from the Dockerfile on ${standin}...`);
    // Host network: the daemon has no bridge. The layer cache makes a rebuild cost only what changed.
    const build = docker(['build', '--network', 'host', '--build-arg', `NODE_IMAGE=${standin}`, '--tag', TEST_IMAGE_TAG, root], { env: engine.env });
    if (build.status !== 0) throw new Error(`docker build failed:\n${(build.stdout + build.stderr).slice(-6000)}`);
    return { image: TEST_IMAGE_TAG, ...engine };
  } catch (err) {
    await engine.stop();
    throw err;
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === new URL(import.meta.url).pathname) {
  prepareTestImage({ log: (line) => process.stderr.write(`[hooklane] ${line}\n`) }).then(
    ({ image, env }) => process.stdout.write(`${JSON.stringify({ image, dockerHost: env.DOCKER_HOST ?? null })}\n`),
    (err) => {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    },
  );
}
