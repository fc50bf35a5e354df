import { ENVIRONMENT_DIMENSION, METRIC_NAMES, METRICS_NAMESPACE } from '../../src/metrics/cloudwatch-metrics';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { compose, ebextensionOptions, ebextensionResources, repoRoot } from '../deploy/repo-artifacts';
import { ebOptions, synthesize } from './synth-stack';

describe('scaling on queue depth (.ebextensions resources on the EB Auto Scaling group)', () => {
  const resources = ebextensionResources();

  it('tracks backlog per instance: waiting jobs divided by in-service instances (AWS\'s queue-scaling recipe)', () => {
    const policies = Object.values(resources).filter((r) => r.Type === 'AWS::AutoScaling::ScalingPolicy');
    expect(policies).toHaveLength(1);
    const policy = policies[0]!.Properties!;
    expect(policy).toMatchObject({ PolicyType: 'TargetTrackingScaling', AutoScalingGroupName: { Ref: 'AWSEBAutoScalingGroup' } });
    const metrics = policy.TargetTrackingConfiguration.CustomizedMetricSpecification.Metrics as any[];
    const byId = Object.fromEntries(metrics.map((m) => [m.Id, m]));
    const result = metrics.find((m) => m.ReturnData !== false);
    expect(result.Expression.replace(/\s/g, '')).toBe('waiting/instances');
    expect(byId.waiting.MetricStat.Metric).toEqual({
      Namespace: METRICS_NAMESPACE,
      MetricName: METRIC_NAMES.waiting,
      Dimensions: [{ Name: ENVIRONMENT_DIMENSION, Value: { Ref: 'AWSEBEnvironmentName' } }],
    });
    expect(byId.instances.MetricStat.Metric).toEqual({
      Namespace: 'AWS/AutoScaling',
      MetricName: 'GroupInServiceInstances',
      Dimensions: [{ Name: 'AutoScalingGroupName', Value: { Ref: 'AWSEBAutoScalingGroup' } }],
    });
    expect(policy.TargetTrackingConfiguration.TargetValue).toBeGreaterThan(0);
  });

  it('turns on the group metric the recipe divides by', () => {
    expect(resources.AWSEBAutoScalingGroup?.Properties?.MetricsCollection).toEqual([
      expect.objectContaining({ Granularity: '1Minute', Metrics: expect.arrayContaining(['GroupInServiceInstances']) }),
    ]);
  });

  it('and the CDK environment agree on the metric: the worker publishes with Environment = the EB environment name', () => {
    const { json } = synthesize();
    const env = Object.values(json.Resources as Record<string, any>).find((r) => r.Type === 'AWS::ElasticBeanstalk::Environment')!;
    const metricsEnv = env.Properties.OptionSettings.find((o: any) => o.OptionName === 'METRICS_ENVIRONMENT');
    expect(metricsEnv?.Value).toBe(env.Properties.EnvironmentName);
  });
});

describe('enhanced health measures requests (the web writes the log nginx would)', () => {
  it('mounts the host directory the health agent reads into the web container, where HEALTHD_LOG_DIR points', () => {
    const web = compose().services.web!;
    expect(web.volumes).toEqual(['${HEALTHD_HOST_DIR:-./.data/healthd}:/var/log/healthd']);
    const options = ebOptions(synthesize().json);
    expect(options.get('aws:elasticbeanstalk:application:environment/HEALTHD_LOG_DIR')).toBe('/var/log/healthd');
    expect(options.get('aws:elasticbeanstalk:application:environment/HEALTHD_HOST_DIR')).toBe('/var/log/nginx/healthd');
  });

  it('creates that host directory for the image\'s user before the containers start', () => {
    const doc = parseYaml(readFileSync(path.join(repoRoot, '.ebextensions/01-health.config'), 'utf8')) as { commands: Record<string, { command: string }> };
    expect(Object.values(doc.commands).map((c) => c.command)).toContain('mkdir -p /var/log/nginx/healthd && chown 1000:1000 /var/log/nginx/healthd');
  });

  it('turns off only the 4xx rules (Stripe retries answer 4xx by design), on application and load balancer metrics', () => {
    const doc = ebextensionOptions().get('aws:elasticbeanstalk:healthreporting:system/ConfigDocument') as { Rules: Record<string, Record<string, unknown>> };
    expect(doc.Rules.Environment).toEqual({
      Application: { ApplicationRequests4xx: { Enabled: false } },
      ELB: { ELBRequests4xx: { Enabled: false } },
    });
  });
});
