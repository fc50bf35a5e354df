import { resourcesOfType, synthesize, type Synthesized } from './synth-stack';

type Action = {
  Name: string;
  ActionTypeId: { Provider: string };
  RunOrder: number;
  Configuration: Record<string, unknown>;
  InputArtifacts?: { Name: string }[];
};

describe('console and API deploy in order, with caching that suits each file', () => {
  let synth: Synthesized;
  let deploy: Action[];
  beforeAll(() => {
    synth = synthesize();
    const stages = resourcesOfType(synth.json, 'AWS::CodePipeline::Pipeline')[0]![1].Properties.Stages as { Name: string; Actions: Action[] }[];
    deploy = stages.find((s) => s.Name === 'Deploy')!.Actions;
  });

  it('uploads the console and invalidates CloudFront only after the Elastic Beanstalk deploy succeeded, hashed assets before index.html', () => {
    const order = [...deploy].sort((a, b) => a.RunOrder - b.RunOrder).map((a) => `${a.ActionTypeId.Provider}:${a.Name}@${a.RunOrder}`);
    expect(order).toEqual(['ElasticBeanstalk:ElasticBeanstalk@1', 'S3:ConsoleAssets@2', 'S3:ConsolePages@3', 'CodeBuild:InvalidateCdn@4']);
  });

  it('uploads hashed assets as immutable for a year and the rest (index.html) as no-cache', () => {
    const byName = Object.fromEntries(deploy.map((a) => [a.Name, a]));
    expect(byName.ConsoleAssets!.Configuration).toMatchObject({ Extract: 'true', CacheControl: 'public, max-age=31536000, immutable' });
    expect(byName.ConsoleAssets!.InputArtifacts).toEqual([{ Name: 'console_assets' }]);
    expect(byName.ConsolePages!.Configuration).toMatchObject({ Extract: 'true', CacheControl: 'no-cache' });
    expect(byName.ConsolePages!.InputArtifacts).toEqual([{ Name: 'console_pages' }]);
  });

  it('invalidates only the files that are not hashed (the pages artifact), never /*', () => {
    const invalidate = deploy.find((a) => a.Name === 'InvalidateCdn')!;
    expect(invalidate.InputArtifacts).toEqual([{ Name: 'console_pages' }]);
    const project = resourcesOfType(synth.json, 'AWS::CodeBuild::Project').find(([id]) => id.startsWith('PipelineInvalidate'))![1];
    const spec = project.Properties.Source.BuildSpec as string;
    expect(spec).toContain('create-invalidation');
    expect(spec).toContain("find . -type f -printf '/%P\\\\n'");
    expect(spec).not.toContain('/*');
  });
});
