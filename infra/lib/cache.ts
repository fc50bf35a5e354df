import { aws_ec2 as ec2, aws_elasticache as elasticache, aws_secretsmanager as secretsmanager, Fn } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { acknowledge } from './nag';
import { REDIS_PARAMETERS } from '../../src/redis-parameters';

export interface CacheProps {
  readonly vpc: ec2.IVpc;
  /** The only security group allowed to connect. */
  readonly clientSecurityGroup: ec2.ISecurityGroup;
  readonly nodeType: string;
  readonly namePrefix: string;
  readonly engine: CacheEngine;
}

export type CacheEngine = 'valkey' | 'redis';

/**
 * Valkey is the default: ElastiCache prices its nodes below Redis OSS's, it speaks the same protocol and
 * BullMQ's own CI runs against it. Both get their own parameter group family, each with noeviction.
 */
export const CACHE_ENGINES: Record<CacheEngine, { engine: string; version: string; family: string }> = {
  valkey: { engine: 'valkey', version: '8.0', family: 'valkey8' },
  redis: { engine: 'redis', version: '7.1', family: 'redis7' },
};

const REDIS_PORT = 6379;

/**
 * ElastiCache (Valkey or Redis OSS) replication group for BullMQ: primary + replica in two AZs with automatic
 * failover, TLS in transit, encryption at rest, an AUTH token from Secrets Manager, and a parameter
 * group with `maxmemory-policy noeviction` (under any eviction policy BullMQ silently loses jobs).
 */
export class Cache extends Construct {
  readonly authToken: secretsmanager.Secret;
  readonly replicationGroup: elasticache.CfnReplicationGroup;
  readonly securityGroup: ec2.SecurityGroup;
  /** `rediss://host:port`, without credentials: the AUTH token reaches the app as REDIS_PASSWORD. */
  readonly url: string;

  constructor(scope: Construct, id: string, props: CacheProps) {
    super(scope, id);
    this.authToken = new secretsmanager.Secret(this, 'AuthToken', {
      description: `${props.namePrefix}: ElastiCache AUTH token`,
      // ElastiCache allows 16-128 printable characters without @, " or /; alphanumerics keep it URL-safe too.
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
    });

    this.securityGroup = new ec2.SecurityGroup(this, 'Sg', {
      vpc: props.vpc,
      description: 'hooklane Redis: only the app instances',
      allowAllOutbound: false,
    });
    this.securityGroup.addIngressRule(props.clientSecurityGroup, ec2.Port.tcp(REDIS_PORT), 'hooklane app');

    const subnets = new elasticache.CfnSubnetGroup(this, 'Subnets', {
      description: 'hooklane Redis (isolated subnets)',
      subnetIds: props.vpc.selectSubnets({ subnetType: ec2.SubnetType.PRIVATE_ISOLATED }).subnetIds,
    });
    const engine = CACHE_ENGINES[props.engine];
    const parameters = new elasticache.CfnParameterGroup(this, 'Parameters', {
      cacheParameterGroupFamily: engine.family,
      description: 'hooklane: BullMQ needs noeviction',
      // The same settings as every local redis-server (src/redis-parameters.ts).
      properties: { ...REDIS_PARAMETERS },
    });

    this.replicationGroup = new elasticache.CfnReplicationGroup(this, 'ReplicationGroup', {
      replicationGroupDescription: `${props.namePrefix} BullMQ queues`,
      engine: engine.engine,
      engineVersion: engine.version,
      cacheNodeType: props.nodeType,
      numCacheClusters: 2,
      multiAzEnabled: true,
      automaticFailoverEnabled: true,
      // Enabled at creation means required: no plaintext connections are ever accepted.
      transitEncryptionEnabled: true,
      atRestEncryptionEnabled: true,
      authToken: this.authToken.secretValue.unsafeUnwrap(),
      port: REDIS_PORT,
      cacheParameterGroupName: parameters.ref,
      cacheSubnetGroupName: subnets.ref,
      securityGroupIds: [this.securityGroup.securityGroupId],
      snapshotRetentionLimit: 7,
      snapshotWindow: '03:00-04:00',
      preferredMaintenanceWindow: 'sun:04:30-sun:05:30',
      autoMinorVersionUpgrade: true,
    });

    this.url = Fn.join('', [
      'rediss://',
      this.replicationGroup.attrPrimaryEndPointAddress,
      ':',
      this.replicationGroup.attrPrimaryEndPointPort,
    ]);
    acknowledge(
      this.authToken,
      'Rotating the AUTH token needs an ElastiCache ModifyReplicationGroup (AuthTokenUpdateStrategy ROTATE, ' +
        'then SET) coordinated with a redeploy of the app; it is a runbook step, not a Lambda rotation.',
      'SMG4',
    );
    acknowledge(
      this.replicationGroup,
      'Only the app security group can reach the port, and AUTH + TLS are required; a non-default port adds nothing.',
      'AEC5',
    );
  }
}
