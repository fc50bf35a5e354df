// `npm start`: installs what is missing, builds, and runs the whole product locally (src/dev/start-local.ts).
import { spawn } from 'node:child_process';
import path from 'node:path';
import { checkNode, ensureBinaries, ensureNodeModules, fail, root, run } from './ensure-system.mjs';

checkNode();
ensureNodeModules();
// Before building or starting anything: is the port free, is this checkout's data directory free?
const preflight = run(process.execPath, ['--import', 'tsx', path.join(root, 'src/dev/start-preflight-main.ts')]);
if (preflight !== 0) process.exit(preflight);
if (!process.env.REDIS_URL) ensureBinaries(['redis-server'], 'the embedded Redis (or set REDIS_URL)');
if (run('npm', ['run', '--silent', 'build']) !== 0) fail('the build failed (npm run build)');

const child = spawn(process.execPath, [path.join(root, 'dist/dev/start-local.js')], { stdio: 'inherit', cwd: root });
// start-local owns shutdown; Ctrl-C reaches it through the process group, SIGTERM is passed on.
process.on('SIGINT', () => {});
process.on('SIGTERM', () => child.kill('SIGTERM'));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
