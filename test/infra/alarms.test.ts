import { METRIC_NAMES, METRICS_NAMESPACE } from '../../src/metrics/cloudwatch-metrics';
import { ebextensionResources } from '../deploy/repo-artifacts';
import { ebOptions, resourcesOfType, synthesize, type Synthesized } from './synth-stack';

type Alarm = { Properties: Record<string, any> };
const metricsOf = (alarm: Alarm): { Namespace: string; MetricName: string }[] =>
  alarm.Properties.Metrics
    ? alarm.Properties.Metrics.filter((m: any) => m.MetricStat).map((m: any) => m.MetricStat.Metric)
    : [{ Namespace: alarm.Properties.Namespace, MetricName: alarm.Properties.MetricName }];

describe('alarms and notifications', () => {
  let synth: Synthesized;
  let alarms: Alarm[];
  beforeAll(() => {
    synth = synthesize({ alarmEmail: 'oncall@example.com' });
    alarms = [
      ...resourcesOfType(synth.json, 'AWS::CloudWatch::Alarm').map(([, a]) => a as Alarm),
      ...Object.values(ebextensionResources()).filter((r: any) => r.Type === 'AWS::CloudWatch::Alarm') as Alarm[],
    ];
  });

  it('sends to an encrypted SNS topic with the email subscription from context', () => {
    synth.template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'oncall@example.com' });
    const [, topic] = resourcesOfType(synth.json, 'AWS::SNS::Topic')[0]!;
    expect(topic.Properties.KmsMasterKeyId).toBeDefined();
    expect(synthesize().template.findResources('AWS::SNS::Subscription')).toEqual({});
  });

  it.each([
    ['load balancer 5xx rate', 'AWS/ApplicationELB', 'HTTPCode_Target_5XX_Count'],
    ['target response time p99', 'AWS/ApplicationELB', 'TargetResponseTime'],
    ['environment health degraded', 'AWS/ElasticBeanstalk', 'EnvironmentHealth'],
    ['ElastiCache memory', 'AWS/ElastiCache', 'DatabaseMemoryUsagePercentage'],
    ['ElastiCache engine CPU', 'AWS/ElastiCache', 'EngineCPUUtilization'],
    ['replication lag', 'AWS/ElastiCache', 'ReplicationLag'],
    ['backlog growing', METRICS_NAMESPACE, METRIC_NAMES.intakeBacklog],
    ['oldest waiting job', METRICS_NAMESPACE, METRIC_NAMES.oldestWaitingAge],
    ['failed events', METRICS_NAMESPACE, METRIC_NAMES.eventsFailed],
    ['dead-lettered events', METRICS_NAMESPACE, METRIC_NAMES.deadLettered],
  ])('alarms on %s, notifies the topic, and says in its description what to look at first', (_name, namespace, metric) => {
    const matching = alarms.filter((a) => metricsOf(a).some((m) => m.Namespace === namespace && m.MetricName === metric));
    expect(matching).toHaveLength(1);
    const alarm = matching[0]!.Properties;
    expect(JSON.stringify(alarm.AlarmActions)).toMatch(/"AlarmsTopic|AlarmTopicArn/);
    expect(alarm.AlarmDescription).toMatch(/^.{20,}Runbook: /);
  });

  it('alarms at once on any dead-lettered event and after 5 minutes on the oldest waiting job', () => {
    const byMetric = (metric: string) => alarms.find((a) => metricsOf(a).some((m) => m.MetricName === metric))!.Properties;
    expect(byMetric(METRIC_NAMES.deadLettered)).toMatchObject({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold', EvaluationPeriods: 1 });
    expect(byMetric(METRIC_NAMES.oldestWaitingAge)).toMatchObject({ Threshold: 300, ComparisonOperator: 'GreaterThanThreshold' });
  });

  it('gives .ebextensions the topic through one custom option, set only by CDK', () => {
    const options = ebOptions(synth.json);
    expect(options.get('aws:elasticbeanstalk:customoption/AlarmTopicArn')).toEqual({ Ref: expect.stringMatching(/^AlarmsTopic/) });
  });
});
