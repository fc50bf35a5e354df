import { REQUIRED_PLAIN_ENV } from '../../infra/lib/app';
import { parseSettings } from '../../infra/lib/settings';
import { PRODUCTION_ENV } from '../deploy/production-env';
import { cdkDefaults, resourcesOfType, synthesize } from './synth-stack';

const appEnvironment = Object.fromEntries(REQUIRED_PLAIN_ENV.map((k) => [k, PRODUCTION_ENV[k]]));
const production = {
  stage: 'prod',
  production: true,
  originDomainName: 'origin.hooklane.example.com',
  originCertificateArn: 'arn:aws:acm:eu-west-1:000000000000:certificate/00000000-0000-0000-0000-000000000000',
};

type Stage = { Name: string; Actions: { Name: string; ActionTypeId: { Category: string; Provider: string } }[] };
const stagesOf = (json: Record<string, any>) => resourcesOfType(json, 'AWS::CodePipeline::Pipeline')[0]![1].Properties.Stages as Stage[];

describe('a first deploy that can boot', () => {
  it('cdk.json\'s defaults are a sandbox stage, not production, and synthesize offline', () => {
    const settings = parseSettings(cdkDefaults);
    expect({ stage: settings.stage, production: settings.production }).toEqual({ stage: 'sandbox', production: false });
  });

  it('fails synthesis of a production stage whose appEnvironment lacks a setting the app requires, naming each one', () => {
    const { OAUTH_ISSUER: _issuer, OAUTH_CLIENT_ID: _client, ...partial } = appEnvironment;
    expect(() => synthesize({ ...production, appEnvironment: partial })).toThrow(/appEnvironment lacks OAUTH_ISSUER, OAUTH_CLIENT_ID/);
    expect(() => synthesize({ ...production, appEnvironment })).not.toThrow();
  });

  it('holds the pipeline at a manual approval between build and deploy, so its first run waits for the real secrets', () => {
    const stages = stagesOf(synthesize().json);
    expect(stages.map((s) => s.Name)).toEqual(['Source', 'Build', 'Approve', 'Deploy']);
    expect(stages[2]!.Actions).toEqual([
      expect.objectContaining({ ActionTypeId: expect.objectContaining({ Category: 'Approval', Provider: 'Manual' }) }),
    ]);
  });

  it('drops the approval stage when context turns it off', () => {
    const stages = stagesOf(synthesize({ requireApproval: 'false' }).json);
    expect(stages.map((s) => s.Name)).toEqual(['Source', 'Build', 'Deploy']);
  });
});
