import { parseSettings } from '../../infra/lib/settings';
import { cdkDefaults } from './synth-stack';

describe('CDK context settings', () => {
  it('accepts cdk.json as it is', () => {
    expect(parseSettings(cdkDefaults).stage).toBe('sandbox');
  });

  it('names every bad key at once', () => {
    expect(() => parseSettings({ ...cdkDefaults, minInstances: 1, cloudFrontPrefixListId: 'nope', repository: 'x' })).toThrow(
      /minInstances: at least 2[\s\S]*cloudFrontPrefixListId[\s\S]*repository: owner\/repo/,
    );
  });

  it('takes -c strings: comma-separated domain names and a JSON app environment', () => {
    const s = parseSettings({
      ...cdkDefaults,
      domainNames: 'a.example.com, b.example.com',
      certificateArn: 'arn:aws:acm:us-east-1:000000000000:certificate/x',
      appEnvironment: '{"OAUTH_ISSUER":"https://id.example.com"}',
    });
    expect(s.domainNames).toEqual(['a.example.com', 'b.example.com']);
    expect(s.appEnvironment).toEqual({ OAUTH_ISSUER: 'https://id.example.com' });
  });

  it('rejects a custom domain without its certificate', () => {
    expect(() => parseSettings({ ...cdkDefaults, domainNames: ['a.example.com'] })).toThrow(/domainNames and certificateArn go together/);
  });
});
