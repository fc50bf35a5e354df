import { ebextensionOptions, ebextensionResources, optionEntries } from '../deploy/repo-artifacts';
import { ebOptions, synthesize } from './synth-stack';

// Options set through the API (CloudFormation, here) silently override .ebextensions: an option set in
// both places would look configured in the repository and be ignored in production.
describe('.ebextensions and CDK option settings', () => {
  it('never set the same namespace/option', () => {
    const fromCdk = new Set(ebOptions(synthesize().json).keys());
    const fromEbextensions = [...ebextensionOptions().keys()];
    expect(fromCdk.size).toBeGreaterThan(20);
    expect(fromEbextensions.length).toBeGreaterThan(10);
    expect(fromEbextensions.filter((key) => fromCdk.has(key))).toEqual([]);
  });

  it('never define the same resource, and change EB\'s own resources only where no option reaches', () => {
    const cdkIds = new Set(Object.keys(synthesize().json.Resources));
    const resources = ebextensionResources();
    expect(Object.keys(resources).filter((id) => cdkIds.has(id))).toEqual([]);
    // An EB resource (AWSEB*) changed here must not be given a property an option sets (MinSize, MaxSize, ...
    // come from aws:autoscaling:asg in infra/lib/app.ts): only properties no namespace exposes.
    const notAnOption: Record<string, string[]> = { AWSEBAutoScalingGroup: ['MetricsCollection'] };
    for (const [id, resource] of Object.entries(resources).filter(([id]) => id.startsWith('AWSEB'))) {
      expect({ id, type: resource.Type }).toEqual({ id, type: undefined });
      expect(Object.keys(resource.Properties ?? {}).filter((p) => !(notAnOption[id] ?? []).includes(p))).toEqual([]);
    }
  });

  it('reads both option_settings forms EB accepts', () => {
    expect(optionEntries({ 'aws:a': { X: '1' } })).toEqual([['aws:a/X', '1']]);
    expect(optionEntries([{ namespace: 'aws:a', option_name: 'X', value: '1' }])).toEqual([['aws:a/X', '1']]);
  });
});
