import { Stack, Validations, type CfnResource } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * Acknowledges cdk-nag AwsSolutions findings on `scope` and everything under it, with the reason
 * recorded next to the construct that causes them. cdk-nag v3 matches finding ids exactly, so
 * IAM5 wildcards are listed one by one (`IAM5[Action::s3:List*]`).
 */
export function acknowledge(scope: IConstruct, reason: string, ...findings: string[]): void {
  Validations.of(scope).acknowledge(...findings.map((f) => ({ id: `AwsSolutions::AwsSolutions-${f}`, reason })));
}

/** The `<LogicalId.Arn>/*` form cdk-nag uses for a bucket's objects in IAM5 finding ids. */
export function objectsOf(resource: CfnResource): string {
  return `Resource::<${Stack.of(resource).getLogicalId(resource)}.Arn>/*`;
}

/** Wildcard actions of CDK's own grant helpers (bucket.grantReadWrite, key.grantEncryptDecrypt). */
export const CDK_GRANT_ACTIONS = [
  'IAM5[Action::s3:GetObject*]',
  'IAM5[Action::s3:GetBucket*]',
  'IAM5[Action::s3:List*]',
  'IAM5[Action::s3:DeleteObject*]',
  'IAM5[Action::s3:Abort*]',
  'IAM5[Action::kms:GenerateDataKey*]',
  'IAM5[Action::kms:ReEncrypt*]',
];
