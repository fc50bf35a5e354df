import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import { freePort } from '../../src/dev/embedded-redis';
import { waitForHttp } from '../../src/dev/wait-for-http';
import { buildStripeEvent, signStripePayload } from '../../src/dev/stripe-event-builder';
import { PRODUCTION_ENV } from '../deploy/production-env';
import { postJob, waitForJob, type JobsApi } from '../support/processes';
import { startRedis, type TestRedis } from '../support/redis';

// The image the Dockerfile builds, in a real Docker engine (scripts/container/): `npm test` builds it
// once and names it in HOOKLANE_TEST_IMAGE; the pipeline passes the image it then pushes. Every
// container runs with host networking (the engine has no bridge), so all traffic stays on loopback,
// and with what docker-compose.yml gives it in production: read-only root, no capabilities,
// no-new-privileges, a tmpfs /tmp.

const root = path.resolve(__dirname, '../..');
const WEBHOOK_SECRET = 'whsec_container_test_secret';
// 60 MB before tracing; the OpenTelemetry SDK and OTLP exporter add about 9 MB (loaded only with an endpoint set).
const MAX_ADDED_LAYERS_BYTES = 75 * 1024 * 1024;

let image: string;
let redis: TestRedis;
let webPort: number;
const prefix = `test-${randomUUID()}`;
const containers: string[] = [];
// Passed explicitly: jest's process.env is the test's own copy, which child processes do not see.
let dockerEnv: NodeJS.ProcessEnv = process.env;

function docker(args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync('docker', args, { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024, env: dockerEnv });
  if (r.error) throw r.error;
  return { status: r.status ?? 1, stdout: r.stdout.trim(), stderr: r.stderr.trim() };
}
function dockerOk(args: string[]): string {
  const r = docker(args);
  if (r.status !== 0) throw new Error(`docker ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}
const logsOf = (name: string) => {
  const r = docker(['logs', '--tail', '80', name]);
  return `${r.stdout}\n${r.stderr}`;
};

/** docker run -d, hardened as docker-compose.yml runs it, on the host network. */
function runContainer(name: string, command: string, env: Record<string, string>): string {
  const envArgs = Object.entries(env).flatMap(([k, v]) => ['--env', `${k}=${v}`]);
  dockerOk([
    'run', '--detach', '--name', name, '--network', 'host',
    '--read-only', '--tmpfs', '/tmp', '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges:true',
    '--stop-timeout', command === 'web' ? '20' : '30',
    ...envArgs, image, command,
  ]);
  containers.push(name);
  return name;
}

async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

const web = `hooklane-test-web-${process.pid}`;
const worker = `hooklane-test-worker-${process.pid}`;
let appEnv: Record<string, string>;
let url: string;
let api: JobsApi;

beforeAll(async () => {
  image = process.env.HOOKLANE_TEST_IMAGE ?? '';
  if (!image) {
    // Run outside `npm test`: build the image the same way (and start an engine if none is running).
    const prepared = spawnSync(process.execPath, [path.join(root, 'scripts/container/test-image.mjs')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    if (prepared.status !== 0) throw new Error('could not prepare the test image (see above)');
    const { image: built, dockerHost } = JSON.parse(prepared.stdout.trim().split('\n').pop()!) as { image: string; dockerHost: string | null };
    image = built;
    if (dockerHost) dockerEnv = { ...process.env, DOCKER_HOST: dockerHost };
  }
  redis = await startRedis();
  webPort = await freePort();
  url = `http://127.0.0.1:${webPort}`;
  appEnv = {
    ...PRODUCTION_ENV,
    STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
    REDIS_URL: redis.url,
    QUEUE_PREFIX: prefix,
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
  };
  runContainer(web, 'web', { ...appEnv, PORT: String(webPort) });
  runContainer(worker, 'worker', { ...appEnv, PORT: String(await freePort()) });
  try {
    await waitForHttp(`${url}/readyz`, { timeoutMs: 60_000 });
  } catch (err) {
    throw new Error(`${(err as Error).message}\nweb:\n${logsOf(web)}`);
  }
  // A jobs API key from the image's own CLI, as an operator makes one on an instance.
  const created = dockerOk(['exec', web, 'node', 'dist/cli/api-key.js', 'create', 'container test']);
  const apiKey = /hl_[0-9a-f]{16}_[0-9a-f]{64}/.exec(created)?.[0];
  if (!apiKey) throw new Error(`api-key create printed no key: ${created}`);
  api = { url, apiKey };
}, 900_000);

afterAll(async () => {
  for (const name of containers) docker(['rm', '--force', '--volumes', name]);
  await redis?.destroy();
});

describe('the image, in a real Docker engine', () => {
  it('runs as uid 1000 with tini as PID 1, a read-only root, no capabilities and no-new-privileges', () => {
    expect(dockerOk(['exec', web, 'id', '-u'])).toBe('1000');
    expect(dockerOk(['exec', web, 'cat', '/proc/1/comm'])).toBe('tini');
    const status = dockerOk(['exec', web, 'cat', '/proc/self/status']);
    expect(status).toMatch(/^CapEff:\s+0+$/m);
    expect(status).toMatch(/^NoNewPrivs:\s+1$/m);
    expect(docker(['exec', web, 'touch', '/app/written']).status).not.toBe(0);
    expect(dockerOk(['inspect', '--format', '{{.HostConfig.ReadonlyRootfs}} {{.HostConfig.NetworkMode}}', web])).toBe('true host');
  });

  it('has an executable entrypoint owned by root (the Dockerfile sets the mode itself)', () => {
    expect(dockerOk(['exec', web, 'stat', '-c', '%a %U', '/app/scripts/docker-entrypoint.sh'])).toBe('755 root');
  });

  it('accepts a signed webhook on the web container and the worker container processes it (the event index says succeeded)', async () => {
    const event = buildStripeEvent('customer.created', { account: 'acct_1Container' });
    const payload = JSON.stringify(event);
    const res = await fetch(`${url}/webhooks/stripe`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'stripe-signature': signStripePayload(payload, WEBHOOK_SECRET) },
      body: payload,
    });
    expect(res.status).toBe(200);
    const auth = { authorization: `Bearer ${PRODUCTION_ENV.ADMIN_TOKEN}` };
    const record = await until(
      'the event to succeed',
      async () => {
        const r = await fetch(`${url}/api/events/${event.id}`, { headers: auth });
        const body = r.status === 200 ? ((await r.json()) as { status: string }) : undefined;
        return body && body.status !== 'queued' && body.status !== 'processing' ? body : undefined;
      },
      60_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\nworker:\n${logsOf(worker)}`);
    });
    expect(record.status).toBe('succeeded');
  }, 90_000);

  it('turns healthy by its own HEALTHCHECK', async () => {
    const health = await until(
      'a health verdict',
      () => {
        const s = dockerOk(['inspect', '--format', '{{.State.Health.Status}}', web]);
        return s === 'starting' ? undefined : s;
      },
      90_000,
    );
    expect(health).toBe('healthy');
  }, 120_000);

  it("the worker's sandboxed job processors leave no zombie processes", async () => {
    const ids = [await postJob(api, { steps: 2 }), await postJob(api, { steps: 2 })];
    for (const id of ids) expect((await waitForJob(api, id, (j) => j.state === 'completed')).state).toBe('completed');
    const states = dockerOk(['exec', worker, 'sh', '-c', 'cat /proc/[0-9]*/stat 2>/dev/null | cut -d" " -f3']).split('\n');
    expect(states.filter((s) => s === 'Z')).toEqual([]);
  }, 90_000);

  it('docker stop ends the worker with exit code 0 after its in-flight job finishes, then the web with 0', async () => {
    const id = await postJob(api, { steps: 5, stepMs: 400 });
    await waitForJob(api, id, (j) => j.state === 'active');
    dockerOk(['stop', worker]);
    expect(dockerOk(['inspect', '--format', '{{.State.ExitCode}} {{.State.OOMKilled}}', worker])).toBe('0 false');
    expect((await waitForJob(api, id, (j) => j.state !== 'active', 20_000)).state).toBe('completed');
    dockerOk(['stop', web]);
    expect(dockerOk(['inspect', '--format', '{{.State.ExitCode}}', web])).toBe('0');
  }, 120_000);

  it('adds under 75 MB of layers to its base image (docker history)', () => {
    const base = dockerOk(['history', '--no-trunc', '--format', '{{.ID}}', image]).split('\n');
    const sizes = dockerOk(['history', '--no-trunc', '--human=false', '--format', '{{.Size}}\t{{.CreatedBy}}', image]).split('\n');
    // The base's own layers are the bottom ones (created by `docker import` or the base image's build);
    // ours start at the Dockerfile's first instruction, WORKDIR /app.
    const ours = sizes.slice(0, sizes.findIndex((line) => /WORKDIR \/app/.test(line)) + 1);
    expect(ours.length).toBeGreaterThan(5);
    expect(ours.length).toBeLessThan(base.length);
    const added = ours.reduce((sum, line) => sum + Number(line.split('\t')[0]), 0);
    expect(added).toBeLessThan(MAX_ADDED_LAYERS_BYTES);
  });
});
