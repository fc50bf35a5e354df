import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import Ajv from 'ajv';
import { parse as parseYaml } from 'yaml';
import { assertImageByDigest, bundleCompose, LOCAL_PROFILE } from '../../scripts/build-bundle/bundle-compose';
import { repoRoot } from './repo-artifacts';

// One compose source of truth: docker-compose.yml is what `docker compose --profile local up --build`
// runs; the bundle's is generated from it. Both must be valid Compose files, and differ only where the
// bundle must: the pinned image instead of a build, no local-only services.

const IMAGE = `123456789012.dkr.ecr.eu-west-1.amazonaws.com/hooklane-prod@sha256:${'ab'.repeat(32)}`;
const schema = JSON.parse(readFileSync(path.join(__dirname, 'vendor/compose-spec.json'), 'utf8'));
// The vendored schema is draft-07: ajv's default class. It names the meta-schema by its https URL,
// which ajv knows by the http one: register ajv's own draft-07 meta-schema under that name too.
// Not strict: strict mode reports the schema's own style (e.g. unknown `format`s) as errors in it.
const ajv = new Ajv({ allErrors: true, strict: false });
const draft07 = JSON.parse(readFileSync(require.resolve('ajv/dist/refs/json-schema-draft-07.json'), 'utf8'));
ajv.addMetaSchema({ ...draft07, $id: schema.$schema });
const validate = ajv.compile(schema);
const sourceText = readFileSync(path.join(repoRoot, 'docker-compose.yml'), 'utf8');

type Compose = { services: Record<string, Record<string, unknown>>; volumes?: Record<string, unknown>; [k: string]: unknown };
const source = parseYaml(sourceText, { merge: true }) as Compose;
const bundled = parseYaml(bundleCompose(sourceText, IMAGE)) as Compose;

function errorsOf(doc: unknown): string[] {
  return validate(doc) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
}

describe('docker-compose.yml and the bundle generated from it', () => {
  it('are both valid against the Compose Specification schema', () => {
    // Compose resolves YAML merge keys (`<<: *app`) before it validates; so does this parse.
    expect(errorsOf(source)).toEqual([]);
    expect(errorsOf(bundled)).toEqual([]);
  });

  it('the schema check is not vacuous: a misspelt key is rejected', () => {
    const broken = { ...bundled, services: { web: { ...bundled.services.web, stop_grace_perod: '20s' } } };
    expect(errorsOf(broken).join('\n')).toMatch(/additional properties/i);
  });

  it('the bundle runs every app service from the pinned image, with no build and nothing else changed', () => {
    const appServices = Object.entries(source.services).filter(([, s]) => !(s.profiles as string[] | undefined)?.includes(LOCAL_PROFILE));
    expect(Object.keys(bundled.services).sort()).toEqual(appServices.map(([name]) => name).sort());
    for (const [name, service] of appServices) {
      const { build, image: _localTag, ...rest } = service;
      expect(build).toBeDefined();
      expect(bundled.services[name]).toEqual({ ...rest, image: IMAGE });
      expect(bundled.services[name]).not.toHaveProperty('build');
    }
    expect(JSON.stringify(bundled)).not.toMatch(/"build"|redis:|docker\.io|Dockerfile/);
    expect(bundled.name).toBe(source.name);
    expect(Object.keys(bundled).filter((k) => k.startsWith('x-'))).toEqual([]);
  });

  it('the bundle drops the local-only Redis and its volume, which production replaces with ElastiCache', () => {
    expect(source.services.redis?.profiles).toEqual([LOCAL_PROFILE]);
    expect(bundled.services.redis).toBeUndefined();
    expect(bundled.volumes).toBeUndefined();
  });

  it.each([
    ['a tag', '123456789012.dkr.ecr.eu-west-1.amazonaws.com/hooklane-prod:latest'],
    ['a tag and a digest', `123456789012.dkr.ecr.eu-west-1.amazonaws.com/hooklane-prod:abc@sha256:${'ab'.repeat(32)}`],
    ['a short digest', '123456789012.dkr.ecr.eu-west-1.amazonaws.com/hooklane-prod@sha256:abcd'],
    ['no registry', `hooklane@sha256:${'ab'.repeat(32)}`],
    ['YAML injection', `a.b/c@sha256:${'ab'.repeat(32)}\n    privileged: true`],
  ])('refuses an image named by %s', (_what, image) => {
    expect(() => assertImageByDigest(image)).toThrow(/by digest/);
    expect(() => bundleCompose(sourceText, image)).toThrow(/by digest/);
  });
});
