import { aws_secretsmanager as secretsmanager, SecretValue } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { acknowledge } from './nag';

/** The header CloudFront adds to every request it sends to the load balancer (src/web/origin-verify.ts reads it). */
export const ORIGIN_VERIFY_HEADER = 'X-Origin-Verify';

export interface OriginVerifyProps {
  readonly namePrefix: string;
  /** Pins the header to one version of the header secret (set while rotating it). */
  readonly headerVersionId?: string;
}

/**
 * Proves a request came through this stack's distribution: CloudFront's origin-facing prefix list admits
 * every distribution of every account, so the load balancer's security group alone does not.
 *
 * Two secrets, so the value can be rotated without a moment where CloudFront sends what the app refuses:
 * - `ORIGIN_VERIFY_HEADER`: the one value CloudFront sends (a CloudFormation dynamic reference, resolved at
 *   deploy time, never in the template);
 * - `ORIGIN_VERIFY_SECRET`: what the web process accepts, one value or two comma-separated while rotating.
 *   It starts as a dynamic reference to the header secret, so both agree on the first deploy.
 */
export class OriginVerify extends Construct {
  readonly headerSecret: secretsmanager.Secret;
  readonly acceptedSecret: secretsmanager.Secret;
  /** The header's value as a `{{resolve:secretsmanager:...}}` token. */
  readonly headerValue: string;

  constructor(scope: Construct, id: string, props: OriginVerifyProps) {
    super(scope, id);
    this.headerSecret = new secretsmanager.Secret(this, 'Header', {
      secretName: `${props.namePrefix}/ORIGIN_VERIFY_HEADER`,
      description: `${props.namePrefix}: the ${ORIGIN_VERIFY_HEADER} value CloudFront sends to the load balancer`,
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
    });
    this.acceptedSecret = new secretsmanager.Secret(this, 'Accepted', {
      secretName: `${props.namePrefix}/ORIGIN_VERIFY_SECRET`,
      description: `${props.namePrefix}: environment variable ORIGIN_VERIFY_SECRET (accepted ${ORIGIN_VERIFY_HEADER} values, comma-separated)`,
      secretStringValue: this.headerSecret.secretValue,
    });
    this.headerValue = SecretValue.secretsManager(this.headerSecret.secretArn, {
      ...(props.headerVersionId && { versionId: props.headerVersionId }),
    }).unsafeUnwrap();
    acknowledge(
      this,
      'Rotated by an operator in three steps (README runbook): the app accepts old and new, CloudFront switches, ' +
        'the app drops the old one; a rotation Lambda cannot redeploy CloudFront and EB in that order.',
      'SMG4',
    );
  }
}
