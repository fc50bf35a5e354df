import { ebextensionOptions, optionEntries } from '../deploy/repo-artifacts';
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

  it('reads both option_settings forms EB accepts', () => {
    expect(optionEntries({ 'aws:a': { X: '1' } })).toEqual([['aws:a/X', '1']]);
    expect(optionEntries([{ namespace: 'aws:a', option_name: 'X', value: '1' }])).toEqual([['aws:a/X', '1']]);
  });
});
