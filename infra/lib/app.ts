import {
  aws_ec2 as ec2,
  aws_elasticbeanstalk as elasticbeanstalk,
  aws_iam as iam,
  aws_secretsmanager as secretsmanager,
  Annotations,
  ArnFormat,
  Stack,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE } from '../../src/metrics/cloudwatch-metrics';
import { AppSecrets } from './app-secrets';
import { acknowledge } from './nag';

export interface AppProps {
  readonly namePrefix: string;
  readonly vpc: ec2.IVpc;
  readonly loadBalancerSecurityGroup: ec2.ISecurityGroup;
  readonly appSecurityGroup: ec2.ISecurityGroup;
  /** e.g. "64bit Amazon Linux 2023 v4.9.3 running Docker"; EB only accepts current platform versions. */
  readonly solutionStackName: string;
  readonly instanceType: string;
  readonly minInstances: number;
  readonly maxInstances: number;
  readonly redisUrl: string;
  readonly redisAuthToken: secretsmanager.ISecret;
  /** Secrets made elsewhere in the stack, by the environment variable that receives each one. */
  readonly moreSecrets?: Record<string, secretsmanager.ISecret>;
  /** Non-secret settings passed as plain environment properties (e.g. OAUTH_ISSUER). */
  readonly plainEnvironment: Record<string, string>;
  /** The SNS topic of the alarms .ebextensions defines (they read it as the AlarmTopicArn custom option). */
  readonly alarmTopicArn: string;
  /** Fail (rather than warn) when plainEnvironment lacks a setting the app requires in production. */
  readonly production: boolean;
  /** Regional ACM certificate: the load balancer then listens on HTTPS 443 only. */
  readonly listenerCertificateArn?: string;
}

/**
 * Non-secret settings the app requires when NODE_ENV=production (src/config.ts), set per stage in
 * cdk.json's `appEnvironment`. Their secret counterparts are in app-secrets.ts.
 */
export const REQUIRED_PLAIN_ENV = ['STRIPE_REDIRECT_URL', 'OAUTH_ISSUER', 'OAUTH_CLIENT_ID', 'OAUTH_REDIRECT_URI'] as const;

type OptionSetting = elasticbeanstalk.CfnEnvironment.OptionSettingProperty;
const option = (namespace: string, optionName: string, value: string): OptionSetting => ({ namespace, optionName, value });

/**
 * The Elastic Beanstalk application and its load-balanced Docker (AL2023) environment. Only
 * infrastructure-level options are set here; application-level ones (health check path,
 * deployment policy, log streaming) live in .ebextensions/ and ship with each version.
 */
export class App extends Construct {
  readonly application: elasticbeanstalk.CfnApplication;
  readonly environment: elasticbeanstalk.CfnEnvironment;
  readonly instanceRole: iam.Role;
  readonly secrets: AppSecrets;

  constructor(scope: Construct, id: string, props: AppProps) {
    super(scope, id);
    const name = props.namePrefix;
    this.secrets = new AppSecrets(this, 'Secrets', { namePrefix: name });
    this.application = new elasticbeanstalk.CfnApplication(this, 'Application', {
      applicationName: name,
      description: 'hooklane: Stripe webhooks and Stripe App back-end (web + worker)',
    });
    const serviceRole = this.createServiceRole();
    this.instanceRole = this.createInstanceRole(name, [
      props.redisAuthToken,
      ...this.secrets.all(),
      ...Object.values(props.moreSecrets ?? {}),
    ]);
    const profile = new iam.CfnInstanceProfile(this, 'InstanceProfile', { roles: [this.instanceRole.roleName] });

    this.environment = new elasticbeanstalk.CfnEnvironment(this, 'Environment', {
      applicationName: name,
      environmentName: name,
      tier: { name: 'WebServer', type: 'Standard' },
      solutionStackName: props.solutionStackName,
      optionSettings: [
        ...this.networkOptions(props),
        ...this.capacityOptions(props, profile, serviceRole),
        ...this.operationsOptions(),
        ...this.environmentOptions(props),
        option('aws:elasticbeanstalk:customoption', 'AlarmTopicArn', props.alarmTopicArn),
      ],
    });
    this.environment.addResourceDependency(this.application);
    const missing = REQUIRED_PLAIN_ENV.filter((key) => !props.plainEnvironment[key]);
    if (missing.length) {
      const message = `appEnvironment lacks ${missing.join(', ')}: the app refuses to start in production without them`;
      // A production stage would deploy instances that never boot; a sandbox may synthesize without them.
      if (props.production) throw new Error(`Invalid CDK context: ${message}`);
      Annotations.of(this).addWarningV2('hooklane:app-environment', message);
    }
    acknowledge(
      serviceRole,
      'AWS-maintained policies that Elastic Beanstalk documents for its service role; they follow new EB features.',
      'IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSElasticBeanstalkEnhancedHealth]',
      'IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AWSElasticBeanstalkManagedUpdatesCustomerRolePolicy]',
    );
    acknowledge(
      this.instanceRole,
      'Scoped to this account/region EB bucket (bundles in, rotated logs out under resources/environments/logs/) ' +
        'and to this environment\'s log groups, whose stream names EB chooses.',
      'IAM5[Resource::arn:<AWS::Partition>:s3:::elasticbeanstalk-<AWS::Region>-<AWS::AccountId>/*]',
      'IAM5[Resource::arn:<AWS::Partition>:s3:::elasticbeanstalk-<AWS::Region>-<AWS::AccountId>/resources/environments/logs/*]',
      `IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:/aws/elasticbeanstalk/${name}/*]`,
    );
    acknowledge(
      this.instanceRole,
      'cloudwatch:PutMetricData supports no resource-level permission; the cloudwatch:namespace condition limits it to hooklane. ' +
        'xray:PutTraceSegments and xray:PutTelemetryRecords (traces through the ADOT collector) support none either.',
      'IAM5[Resource::*]',
    );
  }

  private networkOptions(props: AppProps): OptionSetting[] {
    const ids = (type: ec2.SubnetType) => props.vpc.selectSubnets({ subnetType: type }).subnetIds.join(',');
    return [
      option('aws:ec2:vpc', 'VPCId', props.vpc.vpcId),
      option('aws:ec2:vpc', 'Subnets', ids(ec2.SubnetType.PRIVATE_WITH_EGRESS)),
      option('aws:ec2:vpc', 'ELBSubnets', ids(ec2.SubnetType.PUBLIC)),
      option('aws:ec2:vpc', 'ELBScheme', 'public'),
      option('aws:ec2:vpc', 'AssociatePublicIpAddress', 'false'),
      option('aws:elasticbeanstalk:environment', 'EnvironmentType', 'LoadBalanced'),
      option('aws:elasticbeanstalk:environment', 'LoadBalancerType', 'application'),
      option('aws:elbv2:loadbalancer', 'SecurityGroups', props.loadBalancerSecurityGroup.securityGroupId),
      option('aws:elbv2:loadbalancer', 'ManagedSecurityGroup', props.loadBalancerSecurityGroup.securityGroupId),
      ...this.listenerOptions(props),
      option('aws:autoscaling:launchconfiguration', 'SecurityGroups', props.appSecurityGroup.securityGroupId),
    ];
  }

  private listenerOptions(props: AppProps): OptionSetting[] {
    if (!props.listenerCertificateArn) return [option('aws:elbv2:listener:default', 'ListenerEnabled', 'true')];
    return [
      option('aws:elbv2:listener:default', 'ListenerEnabled', 'false'),
      option('aws:elbv2:listener:443', 'ListenerEnabled', 'true'),
      option('aws:elbv2:listener:443', 'Protocol', 'HTTPS'),
      option('aws:elbv2:listener:443', 'SSLCertificateArns', props.listenerCertificateArn),
      option('aws:elbv2:listener:443', 'SSLPolicy', 'ELBSecurityPolicy-TLS13-1-2-2021-06'),
    ];
  }

  private capacityOptions(props: AppProps, profile: iam.CfnInstanceProfile, serviceRole: iam.Role): OptionSetting[] {
    return [
      option('aws:elasticbeanstalk:environment', 'ServiceRole', serviceRole.roleArn),
      option('aws:autoscaling:launchconfiguration', 'IamInstanceProfile', profile.attrArn),
      option('aws:autoscaling:launchconfiguration', 'DisableIMDSv1', 'true'),
      option('aws:autoscaling:launchconfiguration', 'RootVolumeType', 'gp3'),
      option('aws:ec2:instances', 'InstanceTypes', props.instanceType),
      option('aws:autoscaling:asg', 'MinSize', String(props.minInstances)),
      option('aws:autoscaling:asg', 'MaxSize', String(props.maxInstances)),
      option('aws:autoscaling:trigger', 'MeasureName', 'CPUUtilization'),
      option('aws:autoscaling:trigger', 'Unit', 'Percent'),
      option('aws:autoscaling:trigger', 'UpperThreshold', '70'),
      option('aws:autoscaling:trigger', 'LowerThreshold', '25'),
      // Configuration changes that replace instances also keep capacity and wait for health.
      option('aws:autoscaling:updatepolicy:rollingupdate', 'RollingUpdateEnabled', 'true'),
      option('aws:autoscaling:updatepolicy:rollingupdate', 'RollingUpdateType', 'Health'),
      option('aws:autoscaling:updatepolicy:rollingupdate', 'MinInstancesInService', String(props.minInstances)),
    ];
  }

  private operationsOptions(): OptionSetting[] {
    return [
      // Managed platform updates require enhanced health, so both are infrastructure settings here.
      option('aws:elasticbeanstalk:healthreporting:system', 'SystemType', 'enhanced'),
      option('aws:elasticbeanstalk:managedactions', 'ManagedActionsEnabled', 'true'),
      option('aws:elasticbeanstalk:managedactions', 'PreferredStartTime', 'Sun:03:00'),
      // A minor platform version can bring a new Docker version; those are applied by an operator (npm run deploy warns).
      option('aws:elasticbeanstalk:managedactions:platformupdate', 'UpdateLevel', 'patch'),
      option('aws:elasticbeanstalk:managedactions:platformupdate', 'InstanceRefreshEnabled', 'true'),
      option('aws:elasticbeanstalk:hostmanager', 'LogPublicationControl', 'true'),
    ];
  }

  private environmentOptions(props: AppProps): OptionSetting[] {
    const plain: Record<string, string> = {
      NODE_ENV: 'production',
      REDIS_URL: props.redisUrl,
      // CloudFront and the ALB each add one X-Forwarded-For hop.
      TRUST_PROXY: '2',
      // The cache has one replica and replicates asynchronously: a 200 waits until it has the event too,
      // so a failover cannot lose an acknowledged webhook.
      INTAKE_MIN_REPLICAS: '1',
      // The Environment dimension of the hooklane metrics; the alarms and .ebextensions' scaling policy read it.
      METRICS_ENVIRONMENT: props.namePrefix,
      // The request log for the health agent: the container path, and the host path compose mounts there.
      HEALTHD_LOG_DIR: '/var/log/healthd',
      HEALTHD_HOST_DIR: '/var/log/nginx/healthd',
      // The SDK does not read the region from instance metadata; without it the worker publishes nothing.
      AWS_REGION: Stack.of(this).region,
      ...props.plainEnvironment,
    };
    const secrets: Record<string, string> = { REDIS_PASSWORD: props.redisAuthToken.secretArn };
    for (const [envName, secret] of Object.entries({ ...this.secrets.byEnvName, ...props.moreSecrets })) secrets[envName] = secret.secretArn;
    return [
      ...Object.entries(plain).map(([k, v]) => option('aws:elasticbeanstalk:application:environment', k, v)),
      // EB fetches each secret by ARN on the instance at deploy time; the value is never stored in EB's configuration.
      ...Object.entries(secrets).map(([k, arn]) => option('aws:elasticbeanstalk:application:environmentsecrets', k, arn)),
    ];
  }

  private createServiceRole(): iam.Role {
    return new iam.Role(this, 'ServiceRole', {
      assumedBy: new iam.ServicePrincipal('elasticbeanstalk.amazonaws.com', {
        conditions: { StringEquals: { 'sts:ExternalId': 'elasticbeanstalk' } },
      }),
      description: 'Elastic Beanstalk service role: enhanced health and managed platform updates',
      managedPolicies: [
        iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSElasticBeanstalkEnhancedHealth'),
        iam.ManagedPolicy.fromAwsManagedPolicyName('AWSElasticBeanstalkManagedUpdatesCustomerRolePolicy'),
      ],
    });
  }

  /** Least privilege: what the EB agents on the instance need, plus read access to this app's secrets. */
  private createInstanceRole(name: string, secrets: secretsmanager.ISecret[]): iam.Role {
    const stack = Stack.of(this);
    const ebBucket = `arn:${stack.partition}:s3:::elasticbeanstalk-${stack.region}-${stack.account}`;
    const role = new iam.Role(this, 'InstanceRole', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      description: 'hooklane EB instances',
    });
    // The EB storage bucket holds the source bundles the instances download, and receives rotated logs.
    role.addToPolicy(new iam.PolicyStatement({ actions: ['s3:ListBucket', 's3:GetBucketLocation'], resources: [ebBucket] }));
    role.addToPolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [`${ebBucket}/*`] }));
    role.addToPolicy(
      new iam.PolicyStatement({ actions: ['s3:PutObject'], resources: [`${ebBucket}/resources/environments/logs/*`] }),
    );
    // Log streaming (.ebextensions/03-logs.config) writes to this environment's log groups only.
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams', 'logs:PutRetentionPolicy'],
        resources: [stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: `/aws/elasticbeanstalk/${name}/*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME })],
      }),
    );
    // The enhanced-health agent reports instance statistics.
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['elasticbeanstalk:PutInstanceStatistics'],
        resources: [
          stack.formatArn({ service: 'elasticbeanstalk', resource: 'application', resourceName: name }),
          stack.formatArn({ service: 'elasticbeanstalk', resource: 'environment', resourceName: `${name}/${name}` }),
        ],
      }),
    );
    // Application metrics (src/worker/cloudwatch-publisher.ts): PutMetricData has no resource to scope, so
    // the namespace condition is the scope.
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['cloudwatch:PutMetricData'],
        resources: ['*'],
        conditions: { StringEquals: { 'cloudwatch:namespace': METRICS_NAMESPACE } },
      }),
    );
    // Traces (docs/operations.md#tracing): an ADOT collector on the instance sends them to X-Ray with the
    // instance profile. Neither action has a resource to scope it to.
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'],
        resources: ['*'],
      }),
    );
    for (const secret of secrets) secret.grantRead(role);
    return role;
  }
}
