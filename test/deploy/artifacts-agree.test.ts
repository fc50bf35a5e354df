import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { configSchema } from '../../src/config';
import { INSTANCE_PORT } from '../../infra/lib/hooklane-stack';
import { BUILD_ARTIFACTS } from '../../infra/lib/pipeline';
import { BUNDLE_STAGING_DIR } from '../../scripts/build-bundle/write-bundle';
import {
  argsOf,
  buildspec,
  compose,
  composeDurationMs,
  contextFilter,
  dockerfile,
  ebextensionOptions,
  jsonArgs,
  keyword,
  packageJson,
  procfile,
  repoRoot,
} from './repo-artifacts';

const defaults = configSchema.parse({ REDIS_URL: 'redis://localhost:6379' });
const processTypes = procfile().map((p) => p.name);
const { stages, args } = dockerfile();
const runtime = stages.at(-1)!;
const services = compose().services;
const appServices = Object.entries(services).filter(([, s]) => !s.profiles?.length);
const eb = ebextensionOptions();
const env = (stage: typeof runtime) =>
  Object.fromEntries(keyword(stage, 'ENV').flatMap((i) => argsOf(i).map((a) => a.split('=') as [string, string])));

describe('Procfile is the only list of process types', () => {
  it('declares web and worker, each starting a compiled entry point', () => {
    expect(procfile()).toEqual([
      { name: 'web', command: 'node dist/web/main.js' },
      { name: 'worker', command: 'node dist/worker/main.js' },
    ]);
  });

  it('has one compose service per process type, running that type from the same image', () => {
    expect(appServices.map(([, s]) => s.command?.[0]).sort()).toEqual([...processTypes].sort());
    expect(new Set(appServices.map(([, s]) => `${s.build}|${s.image}`)).size).toBe(1);
  });

  it('is copied into the image, whose entrypoint starts the type named by the argument (web by default)', () => {
    const copied = keyword(runtime, 'COPY').flatMap(argsOf);
    expect(copied).toContain('Procfile');
    const [entry] = keyword(runtime, 'ENTRYPOINT');
    expect(jsonArgs(entry!)).toEqual(['/usr/bin/tini', '--', '/app/scripts/docker-entrypoint.sh']);
    expect(jsonArgs(keyword(runtime, 'CMD')[0]!)).toEqual(['web']);
    expect(processTypes).toContain('web');
  });
});

describe('Dockerfile', () => {
  it('has install, build, prod-deps and runtime stages, the runtime one last', () => {
    expect(stages.map((s) => s.name)).toEqual(['base', 'install', 'build', 'prod-deps', 'runtime']);
  });

  it('pins a Node LTS bookworm-slim base by full version, from ECR Public\'s mirror of the official images', () => {
    expect(stages[0]!.base).toBe('${NODE_IMAGE}');
    expect(args.NODE_IMAGE).toMatch(/^public\.ecr\.aws\/docker\/library\/node:(20|22|24)\.\d+\.\d+-bookworm-slim(@sha256:[a-f0-9]{64})?$/);
  });

  it('has no `# syntax=` directive, which would make BuildKit pull a frontend from Docker Hub', () => {
    const text = readFileSync(path.join(repoRoot, 'Dockerfile'), 'utf8');
    expect(text.split('\n').filter((line) => /^#\s*syntax\s*=/i.test(line))).toEqual([]);
    expect(text).not.toMatch(/docker\.io|registry-1\.docker/);
  });

  it('sets the entrypoint\'s executable bit inside the image, with a RUN the classic builder understands', () => {
    const copies = stages.flatMap((s) => keyword(s, 'COPY')).map((i) => i.getArgumentsContent() ?? '');
    expect(copies.filter((c) => /--chmod/.test(c))).toEqual([]);
    const build = stages.find((s) => s.name === 'build')!;
    expect(keyword(build, 'RUN').map((i) => i.getArgumentsContent()).join(' ')).toMatch(/chmod 0755 scripts\/docker-entrypoint\.sh/);
    const fromBuild = keyword(runtime, 'COPY').filter((i) => (i as unknown as { getFromFlag(): { getValue(): string } | undefined }).getFromFlag()?.getValue() === 'build');
    expect(fromBuild.map((i) => i.getArgumentsContent())).toContain('/app/scripts ./scripts');
  });

  it('puts only production dependencies and the compiled output in the runtime stage', () => {
    const prodDeps = stages.find((s) => s.name === 'prod-deps')!;
    expect(keyword(prodDeps, 'RUN').map((i) => i.getArgumentsContent()).join(' ')).toMatch(/npm ci --omit=dev/);
    const fromStages = keyword(runtime, 'COPY').map((i) => (i as unknown as { getFromFlag(): { getValue(): string } | undefined }).getFromFlag()?.getValue());
    expect([...new Set(fromStages.filter(Boolean))].sort()).toEqual(['build', 'prod-deps']);
    expect(keyword(runtime, 'RUN').map((i) => i.getArgumentsContent()).join(' ')).not.toMatch(/npm (ci|install)/);
  });

  it('runs as a non-root user with tini as PID 1 and a health check', () => {
    expect(argsOf(keyword(runtime, 'USER')[0]!)).toEqual(['node']);
    expect(keyword(runtime, 'RUN').map((i) => i.getArgumentsContent()).join(' ')).toMatch(/apt-get install .*\btini\b/);
    expect(jsonArgs(keyword(runtime, 'HEALTHCHECK')[0]!)).toEqual(['node', 'scripts/docker-healthcheck.js']);
  });

  it('copies from the build context only what .dockerignore lets in', () => {
    const admit = contextFilter();
    const sources = stages.flatMap((s) =>
      keyword(s, 'COPY')
        .filter((i) => !(i as unknown as { getFromFlag(): unknown }).getFromFlag())
        .flatMap((i) => argsOf(i).slice(0, -1)),
    );
    expect(sources.length).toBeGreaterThan(5);
    for (const source of sources) {
      expect({ source, admitted: admit(source) }).toEqual({ source, admitted: true });
    }
  });
});

describe('ports', () => {
  it('agree from the app to the load balancer: PORT -> EXPOSE -> compose mapping -> EB process port -> security group', () => {
    const port = env(runtime).PORT;
    expect(port).toBe(String(defaults.PORT));
    expect(keyword(runtime, 'EXPOSE').flatMap(argsOf)).toEqual([port]);
    const web = services.web!;
    expect(web.environment?.PORT).toBe(port);
    expect(web.ports?.[0]).toBe(`${INSTANCE_PORT}:${port}`);
    expect(eb.get('aws:elasticbeanstalk:environment:process:default/Port')).toBe(String(INSTANCE_PORT));
  });

  it('publish the metrics ports on the host\'s loopback only, never where the load balancer or the CDN could reach them', () => {
    const published = (name: string) => services[name]!.ports ?? [];
    expect([...published('web').slice(1), ...published('worker')]).toEqual(['127.0.0.1:9464:9464', '127.0.0.1:9465:9465']);
    for (const name of ['web', 'worker']) {
      const metricsPort = services[name]!.environment?.METRICS_PORT;
      expect(published(name)).toContain(`127.0.0.1:${metricsPort}:${metricsPort}`);
      expect(metricsPort).not.toBe(String(INSTANCE_PORT));
    }
    // EXPOSE lists the app's port only: `docker run -P` would publish anything listed on every interface.
    expect(keyword(runtime, 'EXPOSE').flatMap(argsOf)).toEqual([env(runtime).PORT]);
  });
});

describe('health and shutdown', () => {
  const routes = readFileSync(path.join(repoRoot, 'src/web/health-routes.ts'), 'utf8');

  it('checks /readyz from the load balancer and /healthz from Docker, both served by the web process', () => {
    expect(eb.get('aws:elasticbeanstalk:environment:process:default/HealthCheckPath')).toBe('/readyz');
    expect(routes).toContain("'/readyz'");
    expect(routes).toContain("'/healthz'");
    expect(readFileSync(path.join(repoRoot, 'scripts/docker-healthcheck.js'), 'utf8')).toContain('/healthz');
  });

  it('drains longer than the web shutdown timeout before instances leave the target group', () => {
    expect(Number(eb.get('aws:elasticbeanstalk:environment:process:default/DeregistrationDelay')) * 1000).toBeGreaterThan(defaults.SHUTDOWN_TIMEOUT_MS);
  });

  it('gives each container a stop grace period beyond its shutdown timeout and its exit margin', () => {
    // web exits at SHUTDOWN_TIMEOUT_MS + 2 s, the worker at WORKER_SHUTDOWN_TIMEOUT_MS + 3 s (src/*/main.ts).
    expect(composeDurationMs(services.web!.stop_grace_period!)).toBeGreaterThan(defaults.SHUTDOWN_TIMEOUT_MS + 2000);
    expect(composeDurationMs(services.worker!.stop_grace_period!)).toBeGreaterThan(defaults.WORKER_SHUTDOWN_TIMEOUT_MS + 3000);
  });

  it('keeps full capacity during deployments', () => {
    expect(eb.get('aws:elasticbeanstalk:command/DeploymentPolicy')).toBe('RollingWithAdditionalBatch');
  });
});

describe('docker-compose.yml', () => {
  it('reads EB environment properties from .env in the app services', () => {
    for (const [, s] of appServices) expect([s.env_file].flat()).toContain('.env');
  });

  it('runs the app read-only, unprivileged and with bounded logs', () => {
    for (const [, s] of appServices) {
      expect(s).toMatchObject({ read_only: true, cap_drop: ['ALL'], security_opt: ['no-new-privileges:true'] });
      expect(s.logging?.options?.['max-size']).toBeDefined();
    }
  });

  it('runs Redis only under the local profile, with noeviction and AOF', () => {
    const redis = services.redis!;
    expect(redis.profiles).toEqual(['local']);
    const command = redis.command!.join(' ');
    expect(command).toMatch(/--maxmemory-policy noeviction/);
    expect(command).toMatch(/--appendonly yes/);
  });
});

describe('buildspec.yml', () => {
  const spec = buildspec();
  const commands = Object.values(spec.phases).flatMap((p) => p.commands);

  it('builds the image once, tests that image, pushes it and bundles it by the digest the push reports', () => {
    const build = commands.findIndex((c) => /^docker build .*--tag "hooklane:\$\{CODEBUILD_RESOLVED_SOURCE_VERSION\}" \.$/.test(c));
    const test = commands.findIndex((c) => /^HOOKLANE_TEST_IMAGE="hooklane:\$\{CODEBUILD_RESOLVED_SOURCE_VERSION\}" npm test\b/.test(c));
    const push = commands.findIndex((c) => /scripts\/push-image\.ts --source "hooklane:\$\{CODEBUILD_RESOLVED_SOURCE_VERSION\}" --repository "\$\{IMAGE_REPOSITORY_URI\}" .*> build-image\.txt$/.test(c));
    const bundle = commands.findIndex((c) => c === 'npm run bundle -- --image "$(cat build-image.txt)"');
    expect({ build, test, push, bundle }).toEqual({ build: expect.any(Number), test: build + 1, push: test + 2, bundle: push + 1 });
    expect(build).toBeGreaterThanOrEqual(0);
    expect(commands.filter((c) => /docker build/.test(c))).toHaveLength(1);
    expect(packageJson().scripts.bundle).toMatch(/build-bundle/);
  });

  it('names its secondary artifacts as the pipeline expects: the bundle staging dir, dist/public/assets and the rest of dist/public', () => {
    const secondary = spec.artifacts['secondary-artifacts'];
    expect(Object.keys(secondary).sort()).toEqual(Object.values(BUILD_ARTIFACTS).sort());
    expect(secondary[BUILD_ARTIFACTS.bundle]!['base-directory']).toBe(BUNDLE_STAGING_DIR);
    expect(secondary[BUILD_ARTIFACTS.consoleAssets]).toEqual({ 'base-directory': 'dist/public', files: ['assets/**/*'] });
    expect(secondary[BUILD_ARTIFACTS.consolePages]).toEqual({ 'base-directory': 'build/console-pages', files: ['**/*'] });
    expect(commands).toContain('find dist/public -mindepth 1 -maxdepth 1 ! -name assets -exec cp -R {} build/console-pages/ \\;');
    expect(spec.artifacts['base-directory']).toBe(BUNDLE_STAGING_DIR);
  });

  it('publishes the jest-junit output as a JUnit report', () => {
    const [report] = Object.values(spec.reports);
    expect(report!['file-format']).toBe('JUNITXML');
    expect(report!['base-directory']).toBe(spec.env?.variables?.JEST_JUNIT_OUTPUT_DIR);
    expect(report!.files).toEqual([spec.env?.variables?.JEST_JUNIT_OUTPUT_NAME]);
    expect(commands.find((c) => /\bnpm test\b/.test(c))).toMatch(/--reporters=jest-junit/);
    expect(packageJson().devDependencies['jest-junit']).toBeDefined();
    expect(existsSync(path.join(repoRoot, 'node_modules/jest-junit'))).toBe(true);
  });
});
