import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Annotations, Template } from 'aws-cdk-lib/assertions';
import { createHooklaneApp } from '../../infra/lib/hooklane-app';

export const repoRoot = path.resolve(__dirname, '../..');
export const cdkDefaults = JSON.parse(readFileSync(path.join(repoRoot, 'cdk.json'), 'utf8')).context as Record<string, unknown>;

export interface Synthesized {
  template: Template;
  annotations: Annotations;
  json: Record<string, any>;
  validationReport: ValidationReport;
}

export interface ValidationReport {
  pluginReports: {
    pluginName: string;
    conclusion: string;
    violations: { ruleName: string; violatingConstructs: { constructPath: string }[] }[];
    suppressedViolations: { ruleName: string; acknowledgedId: string; reason: string }[];
  }[];
}

/** Synthesizes the app offline (no credentials, no lookups) with cdk.json's context plus `overrides`. */
export function synthesize(overrides: Record<string, unknown> = {}): Synthesized {
  const outdir = mkdtempSync(path.join(tmpdir(), 'hooklane-cdk-'));
  const { app, stack } = createHooklaneApp({
    context: { ...cdkDefaults, 'aws:cdk:version-reporting': false, ...overrides },
    outdir,
  });
  app.synth();
  const template = Template.fromStack(stack);
  return {
    template,
    annotations: Annotations.fromStack(stack),
    json: template.toJSON(),
    validationReport: JSON.parse(readFileSync(path.join(outdir, 'validation-report.json'), 'utf8')),
  };
}

type OptionSetting = { Namespace: string; OptionName: string; Value: unknown };

/** The EB environment's option settings, as `namespace/OptionName` -> value. */
export function ebOptions(json: Record<string, any>): Map<string, unknown> {
  const envs = Object.values(json.Resources).filter((r: any) => r.Type === 'AWS::ElasticBeanstalk::Environment') as any[];
  if (envs.length !== 1) throw new Error(`expected one EB environment, found ${envs.length}`);
  const settings = envs[0].Properties.OptionSettings as OptionSetting[];
  return new Map(settings.map((o) => [`${o.Namespace}/${o.OptionName}`, o.Value]));
}

export function resourcesOfType(json: Record<string, any>, type: string): [string, any][] {
  return Object.entries(json.Resources).filter(([, r]: [string, any]) => r.Type === type) as [string, any][];
}
