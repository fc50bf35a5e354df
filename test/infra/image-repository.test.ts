import { Match } from 'aws-cdk-lib/assertions';
import { KEEP_IMAGES } from '../../infra/lib/image-repository';
import { resourcesOfType, synthesize, type Synthesized } from './synth-stack';

let synth: Synthesized;
beforeAll(() => {
  synth = synthesize();
});

const repositoryId = () => {
  const repos = resourcesOfType(synth.json, 'AWS::ECR::Repository');
  expect(repos).toHaveLength(1);
  return repos[0]![0];
};

/** Every statement of every inline policy attached to the role whose logical id starts with `rolePrefix`. */
function statementsOf(rolePrefix: string): { Action: string | string[]; Resource: unknown }[] {
  return resourcesOfType(synth.json, 'AWS::IAM::Policy')
    .filter(([, p]) => JSON.stringify(p.Properties.Roles).includes(`"${rolePrefix}`))
    .flatMap(([, p]) => p.Properties.PolicyDocument.Statement);
}
const actionsOf = (s: { Action: string | string[] }) => (Array.isArray(s.Action) ? s.Action : [s.Action]);

describe('the image repository', () => {
  it('has immutable tags, scans on push, is KMS-encrypted and keeps the last 30 images', () => {
    synth.template.hasResourceProperties('AWS::ECR::Repository', {
      ImageTagMutability: 'IMMUTABLE',
      ImageScanningConfiguration: { ScanOnPush: true },
      EncryptionConfiguration: { EncryptionType: 'KMS' },
    });
    const policy = JSON.parse(synth.json.Resources[repositoryId()].Properties.LifecyclePolicy.LifecyclePolicyText);
    expect(policy.rules).toEqual([
      expect.objectContaining({ selection: expect.objectContaining({ countType: 'imageCountMoreThan', countNumber: KEEP_IMAGES }) }),
    ]);
    expect(KEEP_IMAGES).toBe(30);
  });

  it('lets the EB instance role pull from that repository only, and push nothing', () => {
    const ecr = statementsOf('AppInstanceRole').filter((s) => actionsOf(s).some((a) => a.startsWith('ecr:')));
    const pull = ecr.filter((s) => actionsOf(s).includes('ecr:BatchGetImage'));
    expect(pull).toHaveLength(1);
    expect(pull[0]!.Resource).toEqual({ 'Fn::GetAtt': [repositoryId(), 'Arn'] });
    // The token call has no resource-level permission; it grants nothing by itself.
    const anywhere = ecr.filter((s) => s.Resource === '*');
    expect(anywhere.flatMap(actionsOf)).toEqual(['ecr:GetAuthorizationToken']);
    expect(ecr.flatMap(actionsOf).filter((a) => /Put|Upload|Delete/.test(a))).toEqual([]);
  });

  it('lets the pipeline build push to it, in privileged mode, with the repository URI in its environment', () => {
    synth.template.hasResourceProperties('AWS::CodeBuild::Project', {
      Environment: Match.objectLike({
        PrivilegedMode: true,
        EnvironmentVariables: Match.arrayWith([Match.objectLike({ Name: 'IMAGE_REPOSITORY_URI' })]),
      }),
    });
    const push = statementsOf('PipelineBuildRole').filter((s) => actionsOf(s).includes('ecr:PutImage'));
    expect(push).toHaveLength(1);
    expect(push[0]!.Resource).toEqual({ 'Fn::GetAtt': [repositoryId(), 'Arn'] });
  });

  it('is an output, so `npm run deploy` users can name it', () => {
    expect(synth.json.Outputs.ImageRepositoryUri).toBeDefined();
  });
});
