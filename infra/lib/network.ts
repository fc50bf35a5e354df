import { aws_ec2 as ec2, aws_logs as logs, RemovalPolicy } from 'aws-cdk-lib';
import { Construct } from 'constructs';

export interface NetworkProps {
  /** One per AZ in production (an AZ outage keeps egress); 1 is enough for a staging stage. */
  readonly natGateways: number;
  /** CloudFront's origin-facing managed prefix list in the stack's region (`com.amazonaws.global.cloudfront.origin-facing`). */
  readonly cloudFrontPrefixListId: string;
  /** Port the web container is published on, on each instance (docker-compose.yml `ports`). */
  readonly instancePort: number;
  /** The load balancer's listener: 443 when it has a certificate, else 80. */
  readonly listenerPort: number;
  /** Interface endpoints for the app subnets (e.g. `ecr.api`, `ecr.dkr`, `logs`): each costs per hour and AZ. */
  readonly interfaceEndpoints: string[];
}

/**
 * VPC over two AZs: the load balancer in public subnets; instances in private subnets with NAT egress
 * (image builds, Stripe's API); Redis in isolated subnets. Security groups say who reaches whom.
 */
export class Network extends Construct {
  readonly vpc: ec2.Vpc;
  /** Attached to the EB load balancer: only CloudFront reaches it. */
  readonly loadBalancerSecurityGroup: ec2.SecurityGroup;
  /** Attached to the EB instances; the cache admits only this group. */
  readonly appSecurityGroup: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);
    this.vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways: props.natGateways,
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
        { name: 'app', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
        { name: 'data', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 26 },
      ],
    });
    // Free: S3 traffic (EB bundles, logs, console files, ECR image layers) stays off the NAT gateways' bill.
    this.vpc.addGatewayEndpoint('S3', {
      service: ec2.GatewayVpcEndpointAwsService.S3,
      subnets: [{ subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }],
    });
    const flowLogGroup = new logs.LogGroup(this, 'FlowLogs', {
      retention: logs.RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.vpc.addFlowLog('FlowLog', { destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogGroup) });

    this.loadBalancerSecurityGroup = new ec2.SecurityGroup(this, 'LoadBalancerSg', {
      vpc: this.vpc,
      description: 'hooklane ALB: CloudFront origin-facing addresses only',
      allowAllOutbound: false,
    });
    this.loadBalancerSecurityGroup.addIngressRule(
      ec2.Peer.prefixList(props.cloudFrontPrefixListId),
      ec2.Port.tcp(props.listenerPort),
      'CloudFront origin-facing',
    );

    this.appSecurityGroup = new ec2.SecurityGroup(this, 'AppSg', {
      vpc: this.vpc,
      description: 'hooklane instances (web + worker containers)',
      allowAllOutbound: true,
    });
    this.appSecurityGroup.addIngressRule(
      this.loadBalancerSecurityGroup,
      ec2.Port.tcp(props.instancePort),
      'ALB to the web container',
    );
    this.loadBalancerSecurityGroup.addEgressRule(
      this.appSecurityGroup,
      ec2.Port.tcp(props.instancePort),
      'to the web container',
    );
    this.addInterfaceEndpoints(props.interfaceEndpoints);
  }

  /** Reached by the app instances only, on 443 (not by the whole VPC CIDR, CDK's default). */
  private addInterfaceEndpoints(names: string[]): void {
    if (!names.length) return;
    const sg = new ec2.SecurityGroup(this, 'EndpointsSg', {
      vpc: this.vpc,
      description: 'hooklane interface endpoints: the app instances only',
      allowAllOutbound: false,
    });
    sg.addIngressRule(this.appSecurityGroup, ec2.Port.tcp(443), 'hooklane app to AWS APIs');
    for (const name of names) {
      this.vpc.addInterfaceEndpoint(`Endpoint-${name}`, {
        service: new ec2.InterfaceVpcEndpointAwsService(name),
        subnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
        privateDnsEnabled: true,
        securityGroups: [sg],
        open: false,
      });
    }
  }
}
