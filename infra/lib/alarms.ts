import {
  aws_cloudwatch as cloudwatch,
  aws_cloudwatch_actions as cloudwatchActions,
  aws_iam as iam,
  aws_kms as kms,
  aws_sns as sns,
  aws_sns_subscriptions as subscriptions,
  Duration,
  Fn,
  RemovalPolicy,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { ENVIRONMENT_DIMENSION, METRIC_NAMES, METRICS_NAMESPACE } from '../../src/metrics/cloudwatch-metrics';

export interface AlarmsProps {
  /** The EB environment's name: the Environment dimension of hooklane's metrics, and EB's own. */
  readonly environmentName: string;
  /** The ElastiCache replication group's id (its Ref); its nodes are `<id>-001` and `<id>-002`. */
  readonly replicationGroupId: string;
  /** Subscribed by email (confirm the message AWS sends); none when absent. */
  readonly email?: string;
}

const RUNBOOK = 'Runbook: README "Runbook"';

/**
 * The alarms that need no Elastic Beanstalk resource and the topic every alarm notifies. The load
 * balancer's alarms (5xx rate, p99) are in .ebextensions/04-alarms.config, the only place that can name the
 * load balancer EB creates; they find this topic through the `AlarmTopicArn` custom option.
 */
export class Alarms extends Construct {
  readonly topic: sns.Topic;
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: AlarmsProps) {
    super(scope, id);
    // CloudWatch can publish to an encrypted topic only with a customer managed key it may use.
    const key = new kms.Key(this, 'TopicKey', {
      description: 'hooklane alarm notifications',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['*'],
      }),
    );
    this.topic = new sns.Topic(this, 'Topic', { displayName: 'hooklane alarms', masterKey: key, enforceSSL: true });
    if (props.email) this.topic.addSubscription(new subscriptions.EmailSubscription(props.email));

    this.applicationAlarms(props.environmentName);
    this.cacheAlarms(props.replicationGroupId);
    this.add('EnvironmentDegraded', {
      // 20 = Degraded, 25 = Severe (enhanced health; published each minute by .ebextensions/01-health.config).
      metric: new cloudwatch.Metric({
        namespace: 'AWS/ElasticBeanstalk',
        metricName: 'EnvironmentHealth',
        dimensionsMap: { EnvironmentName: props.environmentName },
        statistic: 'Maximum',
        period: Duration.minutes(1),
      }),
      threshold: 20,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 5,
      description: 'Environment health Degraded or worse for 5 minutes. First: the EB console\'s Health page (causes per instance).',
    });
  }

  private applicationAlarms(environmentName: string): void {
    const app = (metricName: string, statistic: string) =>
      new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName,
        dimensionsMap: { [ENVIRONMENT_DIMENSION]: environmentName },
        statistic,
        period: Duration.minutes(1),
      });
    this.add('BacklogGrowing', {
      // Per-second rate of change of accepted-but-not-yet-queued webhooks, positive for 10 minutes in a row.
      metric: new cloudwatch.MathExpression({
        expression: 'RATE(backlog)',
        usingMetrics: { backlog: app(METRIC_NAMES.intakeBacklog, 'Maximum') },
        period: Duration.minutes(1),
        label: 'intake backlog growth per second',
      }),
      threshold: 0,
      evaluationPeriods: 10,
      description: 'Intake backlog grew for 10 minutes: movers are not keeping up. First: are workers running (EB Health), is one publishing metrics, Redis CPU.',
    });
    this.add('OldestWaitingJob', {
      metric: app(METRIC_NAMES.oldestWaitingAge, 'Maximum'),
      threshold: 300,
      evaluationPeriods: 2,
      description: 'A job has waited more than 5 minutes to start. First: worker count and CPU, WaitingJobs per queue, a handler stuck on a slow API.',
    });
    this.add('FailedEvents', {
      metric: app(METRIC_NAMES.eventsFailed, 'Sum').with({ period: Duration.minutes(5) }),
      threshold: 10,
      evaluationPeriods: 1,
      description: 'More than 10 Stripe events failed in 5 minutes. First: the worker log lines with level error (eventId, failedReason), then Stripe API status.',
    });
    this.add('DeadLetteredEvents', {
      metric: app(METRIC_NAMES.deadLettered, 'Maximum'),
      threshold: 0,
      evaluationPeriods: 1,
      description: 'An event is out of retries. First: GET /api/admin/events?status=failed for its failedReason; replay it once the cause is fixed.',
    });
  }

  private cacheAlarms(replicationGroupId: string): void {
    // MAX over both nodes: after a failover the primary is -002, and each metric is per node.
    const nodes = ['001', '002'];
    const maxOverNodes = (metricName: string, label: string) =>
      new cloudwatch.MathExpression({
        expression: `MAX([${nodes.map((n) => `n${n}`).join(', ')}])`,
        usingMetrics: Object.fromEntries(
          nodes.map((n) => [
            `n${n}`,
            new cloudwatch.Metric({
              namespace: 'AWS/ElastiCache',
              metricName,
              dimensionsMap: { CacheClusterId: Fn.join('-', [replicationGroupId, n]) },
              statistic: 'Maximum',
              period: Duration.minutes(1),
            }),
          ]),
        ),
        period: Duration.minutes(1),
        label,
      });
    this.add('CacheMemory', {
      metric: maxOverNodes('DatabaseMemoryUsagePercentage', 'cache memory used, %'),
      threshold: 80,
      evaluationPeriods: 5,
      description: 'Cache memory above 80 % (noeviction: at 100 % every write fails). First: WaitingJobs and IntakeBacklog, completed/failed retention, then a larger node type.',
    });
    this.add('CacheEngineCpu', {
      metric: maxOverNodes('EngineCPUUtilization', 'cache engine CPU, %'),
      threshold: 80,
      evaluationPeriods: 5,
      description: 'Cache engine CPU above 80 % (one core runs every command). First: request rate, worker count and concurrency, then a larger node type.',
    });
    this.add('CacheReplicationLag', {
      metric: maxOverNodes('ReplicationLag', 'replication lag, s'),
      threshold: 10,
      evaluationPeriods: 5,
      description: 'Replica more than 10 s behind: a failover now would lose acknowledged writes. First: cache CPU and network, then the ElastiCache events.',
    });
  }

  private add(id: string, props: Omit<cloudwatch.AlarmProps, 'alarmDescription'> & { description: string }): void {
    const { description, ...rest } = props;
    const alarm = new cloudwatch.Alarm(this, id, {
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      ...rest,
      alarmDescription: `${description} ${RUNBOOK}`,
    });
    alarm.addAlarmAction(new cloudwatchActions.SnsAction(this.topic));
    alarm.addOkAction(new cloudwatchActions.SnsAction(this.topic));
    this.alarms.push(alarm);
  }
}
