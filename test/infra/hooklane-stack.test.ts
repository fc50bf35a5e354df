import { Match } from 'aws-cdk-lib/assertions';
import { PRODUCTION_ENV } from '../deploy/production-env';
import { REQUIRED_PLAIN_ENV } from '../../infra/lib/app';
import { SECRET_ENV_NAMES } from '../../infra/lib/app-secrets';
import { ebOptions, resourcesOfType, synthesize, type Synthesized } from './synth-stack';

let synth: Synthesized;
let options: Map<string, unknown>;
beforeAll(() => {
  synth = synthesize();
  options = ebOptions(synth.json);
});

const ref = (logicalIdPrefix: string) => Match.objectLike({ Ref: Match.stringLikeRegexp(`^${logicalIdPrefix}`) });
const logicalId = (type: string, prefix: string) => {
  const found = resourcesOfType(synth.json, type).filter(([id]) => id.startsWith(prefix));
  if (found.length !== 1) throw new Error(`expected one ${type} ${prefix}*, found ${found.length}`);
  return found[0]![0];
};

describe('network', () => {
  it('spreads public, app and data subnets over two AZs', () => {
    const subnets = resourcesOfType(synth.json, 'AWS::EC2::Subnet').map(([id]) => id);
    for (const tier of ['public', 'app', 'data']) {
      expect(subnets.filter((id) => id.includes(`${tier}Subnet`))).toHaveLength(2);
    }
  });

  it('keeps VPC flow logs', () => {
    synth.template.resourceCountIs('AWS::EC2::FlowLog', 1);
  });

  it('lets only CloudFront origin-facing addresses reach the load balancer, on port 80', () => {
    const lbSg = logicalId('AWS::EC2::SecurityGroup', 'NetworkLoadBalancerSg');
    const ingress = resourcesOfType(synth.json, 'AWS::EC2::SecurityGroupIngress').filter(
      ([, r]) => JSON.stringify(r.Properties.GroupId).includes(lbSg),
    );
    expect(ingress).toHaveLength(1);
    expect(ingress[0]![1].Properties).toMatchObject({ SourcePrefixListId: 'pl-3b927c52', FromPort: 80, ToPort: 80 });
    const inline = synth.json.Resources[lbSg].Properties.SecurityGroupIngress ?? [];
    expect(inline).toEqual([]);
  });

  it('puts instances in the private app subnets and the load balancer in the public ones, without public IPs', () => {
    expect(JSON.stringify(options.get('aws:ec2:vpc/Subnets'))).toMatch(/appSubnet1.*appSubnet2/);
    expect(JSON.stringify(options.get('aws:ec2:vpc/ELBSubnets'))).toMatch(/publicSubnet1.*publicSubnet2/);
    expect(options.get('aws:ec2:vpc/ELBScheme')).toBe('public');
    expect(options.get('aws:ec2:vpc/AssociatePublicIpAddress')).toBe('false');
  });
});

describe('cache', () => {
  it('is a Multi-AZ replication group with failover, TLS required, encrypted at rest and an AUTH token from Secrets Manager', () => {
    synth.template.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', {
      NumCacheClusters: 2,
      MultiAZEnabled: true,
      AutomaticFailoverEnabled: true,
      TransitEncryptionEnabled: true,
      TransitEncryptionMode: Match.absent(),
      AtRestEncryptionEnabled: true,
      AuthToken: {
        'Fn::Join': ['', ['{{resolve:secretsmanager:', ref('CacheAuthToken'), ':SecretString:::}}']],
      },
      CacheParameterGroupName: ref('CacheParameters'),
      SecurityGroupIds: [Match.objectLike({ 'Fn::GetAtt': [Match.stringLikeRegexp('^CacheSg'), 'GroupId'] })],
    });
  });

  it('uses a parameter group with maxmemory-policy noeviction', () => {
    synth.template.hasResourceProperties('AWS::ElastiCache::ParameterGroup', {
      Properties: { 'maxmemory-policy': 'noeviction' },
    });
  });

  it('lives in the isolated data subnets', () => {
    const subnetIds = JSON.stringify(resourcesOfType(synth.json, 'AWS::ElastiCache::SubnetGroup')[0]![1].Properties.SubnetIds);
    expect(subnetIds).toMatch(/dataSubnet1.*dataSubnet2/);
    expect(subnetIds).not.toMatch(/publicSubnet|appSubnet/);
  });

  it('admits only the app security group, on the Redis port', () => {
    const cacheSg = logicalId('AWS::EC2::SecurityGroup', 'CacheSg');
    const appSg = logicalId('AWS::EC2::SecurityGroup', 'NetworkAppSg');
    const ingress = resourcesOfType(synth.json, 'AWS::EC2::SecurityGroupIngress').filter(([, r]) =>
      JSON.stringify(r.Properties.GroupId).includes(cacheSg),
    );
    expect(ingress.map(([, r]) => r.Properties)).toEqual([
      expect.objectContaining({ FromPort: 6379, ToPort: 6379, SourceSecurityGroupId: { 'Fn::GetAtt': [appSg, 'GroupId'] } }),
    ]);
    expect(synth.json.Resources[cacheSg].Properties.SecurityGroupIngress ?? []).toEqual([]);
  });
});

describe('Elastic Beanstalk environment', () => {
  it('is a load-balanced Docker (AL2023) environment on an application load balancer with at least 2 instances', () => {
    synth.template.hasResourceProperties('AWS::ElasticBeanstalk::Environment', {
      SolutionStackName: Match.stringLikeRegexp('^64bit Amazon Linux 2023 v[0-9.]+ running Docker$'),
      Tier: { Name: 'WebServer', Type: 'Standard' },
    });
    expect(options.get('aws:elasticbeanstalk:environment/EnvironmentType')).toBe('LoadBalanced');
    expect(options.get('aws:elasticbeanstalk:environment/LoadBalancerType')).toBe('application');
    expect(Number(options.get('aws:autoscaling:asg/MinSize'))).toBeGreaterThanOrEqual(2);
  });

  it('takes the solution stack name from context', () => {
    const other = synthesize({ solutionStackName: '64bit Amazon Linux 2023 v4.99.0 running Docker' });
    other.template.hasResourceProperties('AWS::ElasticBeanstalk::Environment', {
      SolutionStackName: '64bit Amazon Linux 2023 v4.99.0 running Docker',
    });
  });

  it('passes every secret by Secrets Manager ARN, never as a value', () => {
    const secretNames = ['REDIS_PASSWORD', ...SECRET_ENV_NAMES];
    for (const name of secretNames) {
      expect(options.get(`aws:elasticbeanstalk:application:environmentsecrets/${name}`)).toEqual({ Ref: expect.stringMatching(/Secret|AuthToken/) });
      expect(options.has(`aws:elasticbeanstalk:application:environment/${name}`)).toBe(false);
    }
  });

  it('points REDIS_URL at the replication group over TLS, without credentials', () => {
    const url = options.get('aws:elasticbeanstalk:application:environment/REDIS_URL') as { 'Fn::Join': [string, unknown[]] };
    const [, parts] = url['Fn::Join'];
    expect(parts[0]).toBe('rediss://');
    expect(parts[1]).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^CacheReplicationGroup/), 'PrimaryEndPoint.Address'] });
    expect(JSON.stringify(url)).not.toContain('@');
  });

  it('trusts two proxy hops (CloudFront, then the ALB) and runs in production mode', () => {
    expect(options.get('aws:elasticbeanstalk:application:environment/TRUST_PROXY')).toBe('2');
    expect(options.get('aws:elasticbeanstalk:application:environment/NODE_ENV')).toBe('production');
  });

  it('answers a webhook only once the cache replica has it too (INTAKE_MIN_REPLICAS=1: ElastiCache replicates asynchronously)', () => {
    expect(options.get('aws:elasticbeanstalk:application:environment/INTAKE_MIN_REPLICAS')).toBe('1');
  });

  it('enables enhanced health, managed platform updates of patch level only (a minor one can change Docker), S3 log publication and IMDSv2 only', () => {
    expect(options.get('aws:elasticbeanstalk:healthreporting:system/SystemType')).toBe('enhanced');
    expect(options.get('aws:elasticbeanstalk:managedactions/ManagedActionsEnabled')).toBe('true');
    expect(options.get('aws:elasticbeanstalk:managedactions:platformupdate/UpdateLevel')).toBe('patch');
    expect(options.get('aws:elasticbeanstalk:hostmanager/LogPublicationControl')).toBe('true');
    expect(options.get('aws:autoscaling:launchconfiguration/DisableIMDSv1')).toBe('true');
  });
});

describe('app settings the production config requires', () => {
  const appEnvironment = Object.fromEntries(REQUIRED_PLAIN_ENV.map((k) => [k, PRODUCTION_ENV[k]]));

  it('are each provided, as a secret, a stack-set property or a plain stage setting', () => {
    // PRODUCTION_ENV is what the EB-bundle test boots the app with in production mode.
    const env = ebOptions(synthesize({ appEnvironment }).json);
    const provided = (key: string) =>
      env.has(`aws:elasticbeanstalk:application:environment/${key}`) ||
      env.has(`aws:elasticbeanstalk:application:environmentsecrets/${key}`);
    expect(Object.keys(PRODUCTION_ENV).filter((key) => !provided(key))).toEqual([]);
    expect([...SECRET_ENV_NAMES, ...REQUIRED_PLAIN_ENV].sort()).toEqual(Object.keys(PRODUCTION_ENV).filter((k) => k !== 'NODE_ENV').sort());
  });

  it('warn at synthesis when the stage leaves one out, and pass through as environment properties when set', () => {
    synth.annotations.hasWarning('*', Match.stringLikeRegexp('appEnvironment lacks STRIPE_REDIRECT_URL, OAUTH_ISSUER'));
    const complete = synthesize({ appEnvironment });
    // No warning at all: a complete stage synthesizes clean.
    expect(complete.annotations.findWarning('*', Match.anyValue())).toEqual([]);
    const env = ebOptions(complete.json);
    for (const [key, value] of Object.entries(appEnvironment)) {
      expect(env.get(`aws:elasticbeanstalk:application:environment/${key}`)).toBe(value);
    }
  });
});

describe('instance role (least privilege)', () => {
  const statements = () => {
    const policy = resourcesOfType(synth.json, 'AWS::IAM::Policy').find(([id]) => id.startsWith('AppInstanceRole'));
    return policy![1].Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown; Condition?: unknown }[];
  };

  it('has no managed policies, no wildcard actions, and "*" resources only for PutMetricData under a namespace condition, the ECR token and X-Ray\'s two write actions', () => {
    const role = resourcesOfType(synth.json, 'AWS::IAM::Role').find(([id]) => id.startsWith('AppInstanceRole'))![1];
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    for (const s of statements()) {
      for (const action of [s.Action].flat()) expect(action).not.toMatch(/\*$/);
      // ecr:GetAuthorizationToken has no resource-level permissions; pulls are limited to one repository.
      // X-Ray's PutTraceSegments/PutTelemetryRecords have none either (traces through the ADOT collector).
      const xrayWrites = [s.Action].flat().every((a) => a === 'xray:PutTraceSegments' || a === 'xray:PutTelemetryRecords');
      if ([s.Resource].flat().includes('*') && s.Action !== 'ecr:GetAuthorizationToken' && !xrayWrites) {
        expect(s).toMatchObject({ Action: 'cloudwatch:PutMetricData', Condition: { StringEquals: { 'cloudwatch:namespace': 'hooklane' } } });
      }
    }
  });

  it('reads exactly the app secrets and the Redis AUTH token, not the header CloudFront sends', () => {
    const secretReads = statements().filter((s) => [s.Action].flat().includes('secretsmanager:GetSecretValue'));
    const refs = secretReads.flatMap((s) => [s.Resource].flat()).map((r) => (r as { Ref: string }).Ref).sort();
    const secrets = resourcesOfType(synth.json, 'AWS::SecretsManager::Secret')
      .map(([id]) => id)
      .filter((id) => !id.startsWith('OriginVerifyHeader'))
      .sort();
    expect(refs).toEqual(secrets);
  });
});

describe('CDN', () => {
  it('keeps the site bucket private, encrypted, TLS-only and logged', () => {
    const site = logicalId('AWS::S3::Bucket', 'CdnSite');
    expect(synth.json.Resources[site].Properties).toMatchObject({
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      LoggingConfiguration: expect.anything(),
    });
    synth.template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: site },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({ Effect: 'Allow', Principal: { Service: 'cloudfront.amazonaws.com' }, Action: 's3:GetObject' }),
        ]),
      },
    });
  });

  it('reaches S3 through origin access control, with SPA routing by a viewer-request function and no error-page rewrites', () => {
    synth.template.hasResourceProperties('AWS::CloudFront::OriginAccessControl', {
      OriginAccessControlConfig: { OriginAccessControlOriginType: 's3', SigningBehavior: 'always', SigningProtocol: 'sigv4' },
    });
    synth.template.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({
        DefaultCacheBehavior: Match.objectLike({
          ViewerProtocolPolicy: 'redirect-to-https',
          FunctionAssociations: [Match.objectLike({ EventType: 'viewer-request' })],
        }),
        CustomErrorResponses: Match.absent(),
        Logging: Match.objectLike({ Prefix: 'cloudfront/' }),
      }),
    });
    synth.template.hasResourceProperties('AWS::CloudFront::Function', { FunctionConfig: Match.objectLike({ Runtime: 'cloudfront-js-2.0' }) });
  });

  it.each(['/api/*', '/webhooks/*'])('sends %s to the EB load balancer uncached, with all viewer headers but Host and all methods, HTTPS only', (pattern) => {
    const config = resourcesOfType(synth.json, 'AWS::CloudFront::Distribution')[0]![1].Properties.DistributionConfig;
    const behavior = config.CacheBehaviors.find((b: { PathPattern: string }) => b.PathPattern === pattern);
    expect(behavior).toMatchObject({
      CachePolicyId: '4135ea2d-6df8-44a3-9df3-4b5a84be39ad', // Managed-CachingDisabled
      OriginRequestPolicyId: 'b689b0a8-53d0-40ab-baf2-68738e2966ac', // Managed-AllViewerExceptHostHeader
      AllowedMethods: ['GET', 'HEAD', 'OPTIONS', 'PUT', 'PATCH', 'POST', 'DELETE'],
      ViewerProtocolPolicy: 'https-only',
    });
    const origin = config.Origins.find((o: { Id: string }) => o.Id === behavior.TargetOriginId);
    expect(origin.DomainName).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^AppEnvironment/), 'EndpointURL'] });
  });

  it('adds security headers (HSTS, nosniff, DENY framing, referrer policy, CSP)', () => {
    synth.template.hasResourceProperties('AWS::CloudFront::ResponseHeadersPolicy', {
      ResponseHeadersPolicyConfig: Match.objectLike({
        SecurityHeadersConfig: Match.objectLike({
          StrictTransportSecurity: Match.objectLike({ AccessControlMaxAgeSec: 63072000, IncludeSubdomains: true }),
          ContentTypeOptions: Match.anyValue(),
          FrameOptions: Match.objectLike({ FrameOption: 'DENY' }),
          ReferrerPolicy: Match.objectLike({ ReferrerPolicy: 'strict-origin-when-cross-origin' }),
          ContentSecurityPolicy: Match.objectLike({ ContentSecurityPolicy: Match.stringLikeRegexp("frame-ancestors 'none'") }),
        }),
      }),
    });
  });

  it('serves a custom domain with TLSv1.2_2021 when one is configured', () => {
    const custom = synthesize({
      domainNames: ['hooklane.example.com'],
      certificateArn: 'arn:aws:acm:us-east-1:000000000000:certificate/00000000-0000-0000-0000-000000000000',
    });
    custom.template.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({
        Aliases: ['hooklane.example.com'],
        ViewerCertificate: Match.objectLike({ MinimumProtocolVersion: 'TLSv1.2_2021', SslSupportMethod: 'sni-only' }),
      }),
    });
  });
});

describe('HTTPS from CloudFront to the load balancer', () => {
  it('listens on 443 only, admits CloudFront on 443 and has CloudFront ask for the certificate\'s name over TLS 1.2', () => {
    const https = synthesize({
      originDomainName: 'origin.hooklane.example.com',
      originCertificateArn: 'arn:aws:acm:eu-west-1:000000000000:certificate/00000000-0000-0000-0000-000000000000',
    });
    const env = ebOptions(https.json);
    expect(env.get('aws:elbv2:listener:default/ListenerEnabled')).toBe('false');
    expect(env.get('aws:elbv2:listener:443/Protocol')).toBe('HTTPS');
    expect(env.get('aws:elbv2:listener:443/SSLPolicy')).toMatch(/^ELBSecurityPolicy-TLS13-1-2/);
    https.template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', { SourcePrefixListId: 'pl-3b927c52', FromPort: 443, ToPort: 443 });
    const config = resourcesOfType(https.json, 'AWS::CloudFront::Distribution')[0]![1].Properties.DistributionConfig;
    const api = config.Origins.find((o: { DomainName: unknown }) => o.DomainName === 'origin.hooklane.example.com');
    expect(api.CustomOriginConfig).toMatchObject({ OriginProtocolPolicy: 'https-only', OriginSSLProtocols: ['TLSv1.2'] });
    const rules = https.validationReport.pluginReports[0]!.suppressedViolations.map((v) => v.ruleName);
    expect(rules).not.toContain('AwsSolutions-CFR5');
  });
});

describe('pipeline', () => {
  it('is a V2 pipeline triggered by pushes to main through a CodeStar connection', () => {
    synth.template.hasResourceProperties('AWS::CodePipeline::Pipeline', {
      PipelineType: 'V2',
      Triggers: [
        { ProviderType: 'CodeStarSourceConnection', GitConfiguration: { SourceActionName: 'GitHub', Push: [{ Branches: { Includes: ['main'] } }] } },
      ],
    });
  });

  it('builds with buildspec.yml, waits for approval, then deploys to EB, then S3, then invalidates CloudFront', () => {
    const stages = resourcesOfType(synth.json, 'AWS::CodePipeline::Pipeline')[0]![1].Properties.Stages as {
      Name: string;
      Actions: { Name: string; ActionTypeId: { Provider: string }; RunOrder: number; OutputArtifacts?: { Name: string }[] }[];
    }[];
    const providers = stages.map((s) => [s.Name, s.Actions.map((a) => `${a.ActionTypeId.Provider}@${a.RunOrder}`)]);
    expect(providers).toEqual([
      ['Source', ['CodeStarSourceConnection@1']],
      ['Build', ['CodeBuild@1']],
      ['Approve', ['Manual@1']],
      ['Deploy', ['ElasticBeanstalk@1', 'S3@2', 'S3@3', 'CodeBuild@4']],
    ]);
    expect(stages[1]!.Actions[0]!.OutputArtifacts!.map((a) => a.Name)).toEqual(['bundle', 'console_assets', 'console_pages']);
    synth.template.hasResourceProperties('AWS::CodeBuild::Project', {
      Source: Match.objectLike({ Type: 'CODEPIPELINE', BuildSpec: 'buildspec.yml' }),
      EncryptionKey: Match.anyValue(),
    });
  });

  it('lets the invalidation step invalidate only this distribution', () => {
    const policy = resourcesOfType(synth.json, 'AWS::IAM::Policy').find(([id]) => id.startsWith('PipelineInvalidateRole'))![1];
    const statement = policy.Properties.PolicyDocument.Statement.find((s: { Action: unknown }) => s.Action === 'cloudfront:CreateInvalidation');
    expect(JSON.stringify(statement.Resource)).toContain('CdnDistribution');
  });

  it('encrypts artifacts with a rotating KMS key and blocks public access to them', () => {
    synth.template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    const artifacts = logicalId('AWS::S3::Bucket', 'PipelineArtifacts');
    expect(synth.json.Resources[artifacts].Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm).toBe('aws:kms');
  });
});

describe('no secret values in the template', () => {
  it('contains no literal secret-looking strings', () => {
    const text = JSON.stringify(synth.json);
    expect(text).not.toMatch(/sk_(live|test)_|whsec_|rk_(live|test)_/);
    for (const [, secret] of resourcesOfType(synth.json, 'AWS::SecretsManager::Secret')) {
      // Generated, or a dynamic reference to another secret (resolved by CloudFormation, never in the template).
      const initial = secret.Properties.SecretString as { 'Fn::Join': [string, unknown[]] } | undefined;
      if (initial) expect(initial['Fn::Join'][1][0]).toBe('{{resolve:secretsmanager:');
      else expect(secret.Properties.GenerateSecretString).toBeDefined();
    }
  });
});
