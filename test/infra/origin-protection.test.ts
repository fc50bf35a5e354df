import { REQUIRED_PLAIN_ENV } from '../../infra/lib/app';
import { PRODUCTION_ENV } from '../deploy/production-env';
import { ebOptions, resourcesOfType, synthesize, type Synthesized } from './synth-stack';

const appEnvironment = Object.fromEntries(REQUIRED_PLAIN_ENV.map((k) => [k, PRODUCTION_ENV[k]]));
const httpsOrigin = {
  originDomainName: 'origin.hooklane.example.com',
  originCertificateArn: 'arn:aws:acm:eu-west-1:000000000000:certificate/00000000-0000-0000-0000-000000000000',
};

type Origin = { Id: string; DomainName: unknown; OriginCustomHeaders?: { HeaderName: string; HeaderValue: unknown }[] };
const distributionConfig = (s: Synthesized) =>
  resourcesOfType(s.json, 'AWS::CloudFront::Distribution')[0]![1].Properties.DistributionConfig as {
    Origins: Origin[];
    CacheBehaviors: { PathPattern: string; TargetOriginId: string }[];
    DefaultCacheBehavior: { TargetOriginId: string };
  };
const secretLogicalId = (s: Synthesized, prefix: string) => {
  const found = resourcesOfType(s.json, 'AWS::SecretsManager::Secret').filter(([id]) => id.startsWith(prefix));
  if (found.length !== 1) throw new Error(`expected one secret ${prefix}*, found ${found.length}`);
  return found[0]![0];
};

describe('origin protection: a request must come through our own distribution', () => {
  let synth: Synthesized;
  beforeAll(() => {
    synth = synthesize();
  });

  it('fails synthesis of a production stage without HTTPS to the origin, naming originDomainName and originCertificateArn', () => {
    expect(() => synthesize({ stage: 'prod', production: true, appEnvironment })).toThrow(/originDomainName[\s\S]*originCertificateArn/);
    expect(() => synthesize({ stage: 'prod', production: 'true', appEnvironment, ...httpsOrigin })).not.toThrow();
  });

  it('has CloudFront send X-Origin-Verify, resolved from Secrets Manager, on the /api/* and /webhooks/* origin only', () => {
    const config = distributionConfig(synth);
    const headerSecret = secretLogicalId(synth, 'OriginVerifyHeader');
    const apiOriginIds = new Set(config.CacheBehaviors.map((b) => b.TargetOriginId));
    expect(config.CacheBehaviors.map((b) => b.PathPattern).sort()).toEqual(['/api/*', '/webhooks/*']);
    for (const origin of config.Origins.filter((o) => apiOriginIds.has(o.Id))) {
      expect(origin.OriginCustomHeaders).toEqual([
        {
          HeaderName: 'X-Origin-Verify',
          HeaderValue: { 'Fn::Join': ['', ['{{resolve:secretsmanager:', { Ref: headerSecret }, ':SecretString:::}}']] },
        },
      ]);
    }
    const s3Origin = config.Origins.find((o) => o.Id === config.DefaultCacheBehavior.TargetOriginId)!;
    expect(s3Origin.OriginCustomHeaders).toBeUndefined();
  });

  it('gives the web process the accepted values as ORIGIN_VERIFY_SECRET by Secrets Manager ARN, first set to the header secret', () => {
    const accepted = secretLogicalId(synth, 'OriginVerifyAccepted');
    const headerSecret = secretLogicalId(synth, 'OriginVerifyHeader');
    expect(ebOptions(synth.json).get('aws:elasticbeanstalk:application:environmentsecrets/ORIGIN_VERIFY_SECRET')).toEqual({ Ref: accepted });
    // Both start equal without the value ever being in the template: one is a dynamic reference to the other.
    expect(synth.json.Resources[accepted].Properties.SecretString).toEqual({
      'Fn::Join': ['', ['{{resolve:secretsmanager:', { Ref: headerSecret }, ':SecretString:::}}']],
    });
    expect(synth.json.Resources[headerSecret].Properties.GenerateSecretString).toMatchObject({ PasswordLength: 64, ExcludePunctuation: true });
  });

  it('pins the header to a secret version during a rotation, so CloudFormation resolves the new value', () => {
    const rotating = synthesize({ originVerifyHeaderVersion: '7a3e6c1e-0000-4000-8000-000000000001' });
    const api = distributionConfig(rotating).Origins.find((o) => o.OriginCustomHeaders)!;
    expect(JSON.stringify(api.OriginCustomHeaders![0]!.HeaderValue)).toContain(':SecretString:::7a3e6c1e-0000-4000-8000-000000000001}}');
  });
});
