import * as path from 'node:path';
import {
  aws_certificatemanager as acm,
  aws_cloudfront as cloudfront,
  aws_cloudfront_origins as origins,
  aws_s3 as s3,
  Duration,
  RemovalPolicy,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { acknowledge } from './nag';
import { consoleCspHeader } from '../../src/console-csp';

export interface CdnProps {
  /** DNS name of the EB environment's load balancer, or a name of its own when it has a certificate. */
  readonly apiOriginDomainName: string;
  /** Whether the load balancer answers HTTPS (with a certificate for apiOriginDomainName). */
  readonly apiOriginHttps: boolean;
  /** Headers CloudFront adds to every request to the load balancer (the origin-verify secret). */
  readonly apiOriginHeaders: Record<string, string>;
  readonly logBucket: s3.IBucket;
  readonly priceClass: cloudfront.PriceClass;
  /** Optional custom domain; its ACM certificate must be in us-east-1. */
  readonly domain?: { readonly names: string[]; readonly certificateArn: string };
  /** Optional AWS WAF web ACL (CLOUDFRONT scope, us-east-1). */
  readonly webAclArn?: string;
}

/** Paths the EB environment answers; everything else is the console from S3. */
export const API_PATH_PATTERNS = ['/api/*', '/webhooks/*'] as const;

/**
 * Private S3 bucket (origin access control) for the operator console, with SPA routing done by a
 * CloudFront Function; /api/* and /webhooks/* go to the load balancer uncached with every viewer
 * header but Host and every method. HTTPS only for viewers, security headers on every answer.
 */
export class Cdn extends Construct {
  readonly bucket: s3.Bucket;
  readonly distribution: cloudfront.Distribution;

  constructor(scope: Construct, id: string, props: CdnProps) {
    super(scope, id);
    this.bucket = new s3.Bucket(this, 'Site', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      versioned: true,
      serverAccessLogsBucket: props.logBucket,
      serverAccessLogsPrefix: 's3/site/',
      lifecycleRules: [{ noncurrentVersionExpiration: Duration.days(30) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const spaRouting = new cloudfront.Function(this, 'SpaRouting', {
      code: cloudfront.FunctionCode.fromFile({ filePath: path.join(__dirname, 'spa-routing-function.js') }),
      runtime: cloudfront.FunctionRuntime.JS_2_0,
      comment: 'hooklane console: client-side routes get index.html',
    });
    const securityHeaders = this.securityHeadersPolicy();
    const api: cloudfront.BehaviorOptions = {
      origin: new origins.HttpOrigin(props.apiOriginDomainName, {
        protocolPolicy: props.apiOriginHttps ? cloudfront.OriginProtocolPolicy.HTTPS_ONLY : cloudfront.OriginProtocolPolicy.HTTP_ONLY,
        originSslProtocols: [cloudfront.OriginSslPolicy.TLS_V1_2],
        readTimeout: Duration.seconds(30),
        // CloudFront replaces a viewer's header of the same name, so a viewer cannot forge it.
        customHeaders: props.apiOriginHeaders,
      }),
      viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
      allowedMethods: cloudfront.AllowedMethods.ALLOW_ALL,
      cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
      originRequestPolicy: cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
      responseHeadersPolicy: securityHeaders,
      compress: true,
    };

    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: 'hooklane: console (S3) + API and webhooks (Elastic Beanstalk)',
      defaultRootObject: 'index.html',
      defaultBehavior: {
        origin: origins.S3BucketOrigin.withOriginAccessControl(this.bucket),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
        responseHeadersPolicy: securityHeaders,
        functionAssociations: [{ function: spaRouting, eventType: cloudfront.FunctionEventType.VIEWER_REQUEST }],
        compress: true,
      },
      additionalBehaviors: Object.fromEntries(API_PATH_PATTERNS.map((p) => [p, api])),
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      priceClass: props.priceClass,
      enableLogging: true,
      logBucket: props.logBucket,
      logFilePrefix: 'cloudfront/',
      ...(props.domain && {
        // Only a custom certificate lets the distribution set its viewer TLS floor.
        minimumProtocolVersion: cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
        domainNames: props.domain.names,
        certificate: acm.Certificate.fromCertificateArn(this, 'Certificate', props.domain.certificateArn),
      }),
      ...(props.webAclArn && { webAclId: props.webAclArn }),
    });
    this.acknowledgeFindings(props);
  }

  private acknowledgeFindings(props: CdnProps): void {
    acknowledge(this.distribution, 'Stripe delivers webhooks from addresses worldwide; a geo restriction would drop them.', 'CFR1');
    if (!props.apiOriginHttps) {
      acknowledge(
        this.distribution,
        'The load balancer has no certificate of its own: its security group admits only CloudFront ' +
          'origin-facing addresses. Set originDomainName + originCertificateArn to make this hop HTTPS.',
        'CFR5',
      );
    }
    if (!props.domain) {
      acknowledge(
        this.distribution,
        'Without a custom domain CloudFront serves its default *.cloudfront.net certificate, whose TLS floor it ' +
          'sets; set domainNames + certificateArn to enforce TLSv1.2_2021.',
        'CFR4',
      );
    }
    if (!props.webAclArn) {
      acknowledge(
        this.distribution,
        'A CLOUDFRONT-scope web ACL lives in us-east-1 and is shared across apps; pass its ARN as webAclArn.',
        'CFR2',
      );
    }
  }

  private securityHeadersPolicy(): cloudfront.ResponseHeadersPolicy {
    return new cloudfront.ResponseHeadersPolicy(this, 'SecurityHeaders', {
      comment: 'hooklane security headers',
      securityHeadersBehavior: {
        strictTransportSecurity: { accessControlMaxAge: Duration.days(730), includeSubdomains: true, override: true },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: cloudfront.HeadersFrameOption.DENY, override: true },
        referrerPolicy: { referrerPolicy: cloudfront.HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN, override: true },
        // The console gets the very policy the web process sends with it locally; the API sets its own
        // (helmet), and override: false keeps the app's.
        contentSecurityPolicy: {
          contentSecurityPolicy: consoleCspHeader(),
          override: false,
        },
      },
    });
  }
}
