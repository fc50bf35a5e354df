import { aws_cloudfront as cloudfront, CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { Alarms } from './alarms';
import { App } from './app';
import { Cache } from './cache';
import { Cdn } from './cdn';
import { ImageRepository } from './image-repository';
import { LogBucket } from './log-bucket';
import { Network } from './network';
import { ORIGIN_VERIFY_HEADER, OriginVerify } from './origin-verify';
import { Pipeline } from './pipeline';
import type { HooklaneSettings } from './settings';

/** docker-compose.yml publishes the web container on this host port; the ALB targets it. */
export const INSTANCE_PORT = 80;

export interface HooklaneStackProps extends StackProps {
  readonly settings: HooklaneSettings;
}

/** Connects the constructs; every decision lives in one of them. */
export class HooklaneStack extends Stack {
  constructor(scope: Construct, id: string, props: HooklaneStackProps) {
    super(scope, id, props);
    const s = props.settings;
    const namePrefix = `hooklane-${s.stage}`;

    const logs = new LogBucket(this, 'Logs');
    const network = new Network(this, 'Network', {
      natGateways: s.natGateways,
      cloudFrontPrefixListId: s.cloudFrontPrefixListId,
      instancePort: INSTANCE_PORT,
      listenerPort: s.originCertificateArn ? 443 : 80,
      interfaceEndpoints: s.interfaceEndpoints,
    });
    const cache = new Cache(this, 'Cache', {
      vpc: network.vpc,
      clientSecurityGroup: network.appSecurityGroup,
      nodeType: s.cacheNodeType,
      engine: s.cacheEngine,
      namePrefix,
    });
    const originVerify = new OriginVerify(this, 'OriginVerify', {
      namePrefix,
      ...(s.originVerifyHeaderVersion && { headerVersionId: s.originVerifyHeaderVersion }),
    });
    const alarms = new Alarms(this, 'Alarms', {
      environmentName: namePrefix,
      replicationGroupId: cache.replicationGroup.ref,
      ...(s.alarmEmail && { email: s.alarmEmail }),
    });
    const app = new App(this, 'App', {
      namePrefix,
      vpc: network.vpc,
      loadBalancerSecurityGroup: network.loadBalancerSecurityGroup,
      appSecurityGroup: network.appSecurityGroup,
      solutionStackName: s.solutionStackName,
      instanceType: s.instanceType,
      minInstances: s.minInstances,
      maxInstances: s.maxInstances,
      redisUrl: cache.url,
      redisAuthToken: cache.authToken,
      moreSecrets: { ORIGIN_VERIFY_SECRET: originVerify.acceptedSecret },
      plainEnvironment: s.appEnvironment,
      production: s.production,
      alarmTopicArn: alarms.topic.topicArn,
      ...(s.originCertificateArn && { listenerCertificateArn: s.originCertificateArn }),
    });
    // The image is built, tested and pushed once per commit by the pipeline; instances only pull it.
    const images = new ImageRepository(this, 'Images', { namePrefix });
    images.grantPull(app.instanceRole);
    const cdn = new Cdn(this, 'Cdn', {
      // With a certificate, CloudFront must ask for the name on it (a DNS record pointing at the environment).
      apiOriginDomainName: s.originDomainName ?? app.environment.attrEndpointUrl,
      apiOriginHttps: Boolean(s.originCertificateArn),
      apiOriginHeaders: { [ORIGIN_VERIFY_HEADER]: originVerify.headerValue },
      logBucket: logs.bucket,
      priceClass: s.priceClass as cloudfront.PriceClass,
      ...(s.domainNames && s.certificateArn && { domain: { names: s.domainNames, certificateArn: s.certificateArn } }),
      ...(s.webAclArn && { webAclArn: s.webAclArn }),
    });
    new Pipeline(this, 'Pipeline', {
      namePrefix,
      repository: s.repository,
      branch: s.branch,
      ...(s.connectionArn && { connectionArn: s.connectionArn }),
      buildImage: s.buildImage,
      imageRepository: images,
      requireApproval: s.requireApproval,
      applicationName: namePrefix,
      environmentName: namePrefix,
      siteBucket: cdn.bucket,
      distributionId: cdn.distribution.distributionId,
      logBucket: logs.bucket,
    });

    new CfnOutput(this, 'ApplicationName', { value: namePrefix });
    new CfnOutput(this, 'EnvironmentName', { value: namePrefix });
    new CfnOutput(this, 'DistributionDomainName', { value: cdn.distribution.distributionDomainName });
    new CfnOutput(this, 'ImageRepositoryUri', { value: images.repository.repositoryUri });
    new CfnOutput(this, 'SiteBucketName', { value: cdn.bucket.bucketName });
  }
}
