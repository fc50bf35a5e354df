import { synthesize } from './synth-stack';

/** Asset hashes and CDK's version-dependent metadata change without the infrastructure changing. */
function normalize(template: Record<string, unknown>): unknown {
  const text = JSON.stringify(template).replace(/[0-9a-f]{64}/g, '<asset-hash>');
  const json = JSON.parse(text) as { Resources: Record<string, unknown> };
  delete json.Resources.CDKMetadata;
  return json;
}

describe('synthesized template', () => {
  it('matches the reviewed snapshot (update with `npx jest test/infra -u` after an intended change)', () => {
    expect(normalize(synthesize().json)).toMatchSnapshot();
  });
});
