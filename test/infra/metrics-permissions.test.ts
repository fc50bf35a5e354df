import { METRICS_NAMESPACE } from '../../src/metrics/cloudwatch-metrics';
import { ebOptions, resourcesOfType, synthesize } from './synth-stack';

describe('application metrics on the instances', () => {
  const synth = synthesize();

  it('lets the instance role put metric data only in the hooklane namespace', () => {
    const policy = resourcesOfType(synth.json, 'AWS::IAM::Policy').find(([id]) => id.startsWith('AppInstanceRole'))![1];
    const statements = (policy.Properties.PolicyDocument.Statement as any[]).filter((s) => [s.Action].flat().includes('cloudwatch:PutMetricData'));
    expect(statements).toEqual([
      expect.objectContaining({ Action: 'cloudwatch:PutMetricData', Resource: '*', Condition: { StringEquals: { 'cloudwatch:namespace': METRICS_NAMESPACE } } }),
    ]);
  });

  it('lets the instance role send traces to X-Ray (the ADOT collector, docs/operations.md#tracing), and nothing else of X-Ray', () => {
    const policy = resourcesOfType(synth.json, 'AWS::IAM::Policy').find(([id]) => id.startsWith('AppInstanceRole'))![1];
    const actions = (policy.Properties.PolicyDocument.Statement as any[]).flatMap((s) => [s.Action].flat()).filter((a: string) => a.startsWith('xray:'));
    expect(actions.sort()).toEqual(['xray:PutTelemetryRecords', 'xray:PutTraceSegments']);
  });

  it('gives the app its region, so the worker publishes (it stays quiet without one)', () => {
    expect(ebOptions(synth.json).get('aws:elasticbeanstalk:application:environment/AWS_REGION')).toEqual({ Ref: 'AWS::Region' });
  });
});
