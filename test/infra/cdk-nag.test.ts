import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App, aws_ec2 as ec2, Stack, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { synthesize } from './synth-stack';

const customDomain = {
  domainNames: ['hooklane.example.com'],
  certificateArn: 'arn:aws:acm:us-east-1:000000000000:certificate/00000000-0000-0000-0000-000000000000',
  webAclArn: 'arn:aws:wafv2:us-east-1:000000000000:global/webacl/hooklane/00000000-0000-0000-0000-000000000000',
};

describe('cdk-nag AwsSolutions', () => {
  it.each([
    ['the default stage', {}],
    ['a stage with a custom domain and a web ACL', customDomain],
  ])('finds nothing unacknowledged in %s, and every acknowledgement says why', (_name, context) => {
    // synthesize() throws on any unacknowledged finding; the report then proves the pack ran.
    const { validationReport } = synthesize(context);
    const report = validationReport.pluginReports.find((r) => r.pluginName === 'AwsSolutions');
    expect(report?.conclusion).toBe('success');
    expect(report?.violations).toEqual([]);
    expect(report?.suppressedViolations.length).toBeGreaterThan(0);
    for (const s of report!.suppressedViolations) {
      expect({ rule: s.ruleName, reason: s.reason.length >= 40 }).toEqual({ rule: s.ruleName, reason: true });
    }
  });

  it('drops the TLS-floor and WAF acknowledgements once a custom domain and web ACL are configured', () => {
    const rules = (context: Record<string, unknown>) =>
      synthesize(context).validationReport.pluginReports[0]!.suppressedViolations.map((s) => s.ruleName);
    expect(rules({})).toEqual(expect.arrayContaining(['AwsSolutions-CFR4', 'AwsSolutions-CFR2']));
    expect(rules(customDomain)).not.toEqual(expect.arrayContaining(['AwsSolutions-CFR4']));
    expect(rules(customDomain)).not.toEqual(expect.arrayContaining(['AwsSolutions-CFR2']));
  });

  it('fails synthesis when a finding is not acknowledged', () => {
    // The same wiring as createHooklaneApp, on a stack that opens SSH to the world.
    const app = new App({ outdir: mkdtempSync(path.join(tmpdir(), 'hooklane-nag-')) });
    const stack = new Stack(app, 'Probe');
    const vpc = new ec2.Vpc(stack, 'Vpc', { natGateways: 0 });
    new ec2.SecurityGroup(stack, 'Open', { vpc }).addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(22));
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth()).toThrow(/AwsSolutions-EC23/);
  });
});
