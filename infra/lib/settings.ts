import type { App } from 'aws-cdk-lib';
import { z } from 'zod';

// `-c key=value` on the command line always yields strings: lists are comma-separated, maps are JSON.
const list = z.preprocess((v) => (typeof v === 'string' ? v.split(',').map((x) => x.trim()) : v), z.array(z.string()));
const flag = z.preprocess((v) => (v === 'true' ? true : v === 'false' ? false : v), z.boolean());
const jsonRecord = z.preprocess((v) => (typeof v === 'string' ? JSON.parse(v) : v), z.record(z.string().regex(/^[A-Z][A-Z0-9_]*$/), z.string()));

/** What a stage can change, read from CDK context once (infra/bin) and validated here. */
export const settingsSchema = z.object({
  stage: z.string().regex(/^[a-z][a-z0-9-]{1,20}$/, 'lowercase letters, digits and -'),
  /** A stage that serves real traffic: what is only warned about in a sandbox fails synthesis here. */
  production: flag.default(false),
  solutionStackName: z.string().regex(/running Docker$/, 'an Elastic Beanstalk Docker solution stack name'),
  instanceType: z.string().min(1),
  minInstances: z.coerce.number().int().min(2, 'at least 2: one per AZ'),
  maxInstances: z.coerce.number().int().min(2),
  natGateways: z.coerce.number().int().min(1).max(2),
  cacheNodeType: z.string().startsWith('cache.'),
  /** ElastiCache for Valkey 8 (default: same nodes, lower price than Redis OSS) or Redis OSS 7.1. */
  cacheEngine: z.enum(['valkey', 'redis']).default('valkey'),
  /** Interface VPC endpoints by service name (`ecr.api,ecr.dkr,logs,secretsmanager,monitoring`); none by default. */
  interfaceEndpoints: list.pipe(z.array(z.string().regex(/^[a-z0-9-]+(\.[a-z0-9-]+)*$/, 'service names such as ecr.api'))).default([]),
  cloudFrontPrefixListId: z.string().regex(/^pl-[0-9a-f]+$/, 'a managed prefix list id (pl-...)'),
  priceClass: z.enum(['PriceClass_100', 'PriceClass_200', 'PriceClass_All']),
  repository: z.string().regex(/^[\w.-]+\/[\w.-]+$/, 'owner/repo'),
  branch: z.string().min(1),
  connectionArn: z.string().startsWith('arn:').optional(),
  buildImage: z.string().min(1),
  /** A manual approval before each deploy: the first pipeline run starts as soon as the pipeline exists. */
  requireApproval: flag.default(true),
  domainNames: list.optional(),
  certificateArn: z.string().startsWith('arn:').optional(),
  webAclArn: z.string().startsWith('arn:').optional(),
  /** HTTPS from CloudFront to the load balancer: a DNS name pointing at the EB environment, and its regional ACM certificate. */
  originDomainName: z.string().regex(/^[a-z0-9.-]+$/).optional(),
  originCertificateArn: z.string().startsWith('arn:').optional(),
  /**
   * Secrets Manager version id of `<stage>/ORIGIN_VERIFY_HEADER` that CloudFront sends, set while rotating it:
   * CloudFormation re-reads a secret only when its reference in the template changes.
   */
  originVerifyHeaderVersion: z.string().regex(/^[A-Za-z0-9-]{32,64}$/, 'a Secrets Manager version id').optional(),
  /** Where alarm notifications go (an email subscription to the alarm topic; confirm AWS's message). */
  alarmEmail: z.email().optional(),
  /** Non-secret app settings, passed to EB as plain environment properties. */
  appEnvironment: jsonRecord.default({}),
});

export type HooklaneSettings = z.infer<typeof settingsSchema>;

/** Validates raw context values; throws one message naming every bad key. */
export function parseSettings(raw: Record<string, unknown>): HooklaneSettings {
  const parsed = settingsSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `  - ${i.path.join('.')}: ${i.message}`).join('\n');
    throw new Error(`Invalid CDK context (cdk.json "context" or -c key=value):\n${issues}`);
  }
  const s = parsed.data;
  if (s.maxInstances < s.minInstances) throw new Error('Invalid CDK context: maxInstances < minInstances');
  if (Boolean(s.originDomainName) !== Boolean(s.originCertificateArn)) {
    throw new Error('Invalid CDK context: originDomainName and originCertificateArn go together');
  }
  if (s.production && !s.originCertificateArn) {
    throw new Error(
      `Invalid CDK context: production stage "${s.stage}" needs HTTPS from CloudFront to the load balancer: set ` +
        'originDomainName (a DNS name pointing at the environment) and originCertificateArn (its regional ACM certificate)',
    );
  }
  if (Boolean(s.domainNames?.length) !== Boolean(s.certificateArn)) {
    throw new Error('Invalid CDK context: domainNames and certificateArn go together');
  }
  return s;
}

/** Reads every setting from the app's context (cdk.json, then `-c` overrides). */
export function readSettings(app: App): HooklaneSettings {
  const keys = Object.keys(settingsSchema.shape);
  return parseSettings(Object.fromEntries(keys.map((k) => [k, app.node.tryGetContext(k)])));
}
