// `npm test`: installs what the suites need, builds, type-checks, runs jest (unit, integration with real
// Redis, e2e in headless Chromium, infra) and the Stripe App's own tests. Extra args go to jest.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { checkNode, ensureBinaries, ensureNodeModules, fail, root, run, say } from './ensure-system.mjs';

checkNode();
ensureNodeModules();
ensureBinaries(['redis-server', 'chromium', 'haproxy', 'zip', 'unzip'], 'the test suites');
const stripeApp = path.join(root, 'stripe-app');
const hasStripeApp = existsSync(path.join(stripeApp, 'package.json'));
if (hasStripeApp) ensureNodeModules(stripeApp);

if (run('npm', ['run', '--silent', 'build']) !== 0) fail('the build failed (npm run build)');
if (run('npm', ['run', '--silent', 'typecheck']) !== 0) fail('the type check failed (npm run typecheck)');

const jestArgs = process.argv.slice(2);
const jestStatus = run(path.join(root, 'node_modules/.bin/jest'), ['--ci', ...jestArgs], {
  env: { ...process.env, NODE_ENV: 'test' },
});
let appStatus = 0;
if (hasStripeApp && jestArgs.length === 0) {
  say('Stripe App (stripe-app/): type check and tests');
  appStatus = run('npm', ['test'], { cwd: stripeApp });
}
if (jestStatus !== 0 || appStatus !== 0) fail(`tests failed (jest: ${jestStatus}, stripe-app: ${appStatus})`);
say('all tests passed');
