// `npm test`: installs what the suites need, builds, type-checks, runs jest (unit, integration with real
// Redis, e2e in headless Chromium, infra, deploy) and the Stripe App's own tests. Extra args go to jest.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { prepareTestImage } from './container/test-image.mjs';
import { checkNode, dockerReachable, ensureBinaries, ensureNodeModules, fail, root, run, say } from './ensure-system.mjs';

checkNode();
ensureNodeModules();
ensureBinaries(['redis-server', 'chromium', 'haproxy', 'zip', 'unzip'], 'the test suites');
// The container tests: an engine (unless one answers already) and, unless the image to test is given,
// debootstrap for the stand-in of the Dockerfile's base image (no image registry is reachable here).
ensureBinaries(
  [...(dockerReachable() ? [] : ['docker', 'dockerd']), ...(process.env.HOOKLANE_TEST_IMAGE ? [] : ['debootstrap'])],
  'the container tests',
);
const stripeApp = path.join(root, 'stripe-app');
const hasStripeApp = existsSync(path.join(stripeApp, 'package.json'));
if (hasStripeApp) ensureNodeModules(stripeApp);

if (run('npm', ['run', '--silent', 'build']) !== 0) fail('the build failed (npm run build)');
if (run('npm', ['run', '--silent', 'typecheck']) !== 0) fail('the type check failed (npm run typecheck)');

// Built once per run; every container test uses this one image. Skipped only when jest is given test
// paths and none of them is a container test (`npm test -- test/unit`).
const jestArgs = process.argv.slice(2);
const paths = jestArgs.filter((a) => !a.startsWith('-'));
const containerTests = paths.length === 0 || paths.some((p) => /container/.test(p));
let engine = { env: { ...process.env }, image: '', started: false, stop: async () => {} };
if (containerTests) {
  try {
    engine = await prepareTestImage();
  } catch (err) {
    fail(`the container tests' image could not be prepared: ${err.message}`);
  }
  say(`container tests run ${engine.image}${engine.started ? ' (dockerd started for this run)' : ''}`);
}

const scratch = mkdtempSync(path.join(tmpdir(), 'hooklane-test-'));
const rootSummary = path.join(scratch, 'root.json');
const appSummary = path.join(scratch, 'stripe-app.json');
const jestStatus = run(path.join(root, 'node_modules/.bin/jest'), ['--ci', ...jestArgs], {
  env: { ...engine.env, NODE_ENV: 'test', HOOKLANE_TEST_SUMMARY: rootSummary, HOOKLANE_TEST_IMAGE: engine.image },
});
await engine.stop();
let appStatus = 0;
if (hasStripeApp && jestArgs.length === 0) {
  say('Stripe App (stripe-app/): type check and tests');
  appStatus = run('npm', ['test', '--', '--ci', '--json', `--outputFile=${appSummary}`], { cwd: stripeApp });
}

const read = (file) => (existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : undefined);
const rootCounts = read(rootSummary) ?? { passed: 0, failed: jestStatus === 0 ? 0 : 1, skipped: 0 };
const app = read(appSummary);
const appCounts = app
  ? { passed: app.numPassedTests, failed: app.numFailedTests + (app.numFailedTests ? 0 : app.numFailedTestSuites), skipped: app.numPendingTests }
  : { passed: 0, failed: appStatus === 0 ? 0 : 1, skipped: 0 };
rmSync(scratch, { recursive: true, force: true });
const total = (key) => rootCounts[key] + appCounts[key];
const ok = jestStatus === 0 && appStatus === 0;
say(ok ? 'all tests passed' : `tests failed (jest: ${jestStatus}, stripe-app: ${appStatus})`);
// The closing line counts every suite (jest's and the Stripe App's) in the plain form CI logs understand.
process.stdout.write(`hooklane: ${total('passed')} passed, ${total('failed')} failed, ${total('skipped')} skipped\n`);
process.exit(ok ? 0 : 1);
