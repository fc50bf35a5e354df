import { ENVIRONMENT_DIMENSION, METRIC_NAMES, METRICS_NAMESPACE } from '../../src/metrics/cloudwatch-metrics';
import { ebextensionOptions, ebextensionResources } from '../deploy/repo-artifacts';
import { synthesize } from './synth-stack';

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

describe('enhanced health rules', () => {
  it('keeps no rule on application request metrics: with Docker Compose EB runs no nginx, so the health agent has no request log to read', () => {
    const doc = ebextensionOptions().get('aws:elasticbeanstalk:healthreporting:system/ConfigDocument') as { Rules: Record<string, Record<string, unknown>> };
    expect(Object.keys(doc.Rules.Environment!)).toEqual(['ELB']);
  });
});
