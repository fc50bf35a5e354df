import { aws_secretsmanager as secretsmanager } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { acknowledge } from './nag';

/**
 * The app's secrets, one Secrets Manager secret per environment variable. Created with random
 * placeholder values; operators put the real ones (`aws secretsmanager put-secret-value`) and
 * redeploy. Their values never appear in the template or in the EB configuration: EB fetches them
 * on each instance by ARN.
 */
export const SECRET_ENV_NAMES = [
  'ADMIN_TOKEN',
  'STRIPE_SECRET_KEY',
  'STRIPE_WEBHOOK_SECRET',
  'STRIPE_APP_SECRET',
  'OAUTH_CLIENT_SECRET',
] as const;
export type SecretEnvName = (typeof SECRET_ENV_NAMES)[number];

export class AppSecrets extends Construct {
  readonly byEnvName: Record<SecretEnvName, secretsmanager.Secret>;

  constructor(scope: Construct, id: string, props: { namePrefix: string }) {
    super(scope, id);
    const entries = SECRET_ENV_NAMES.map((name) => {
      const secret = new secretsmanager.Secret(this, name, {
        secretName: `${props.namePrefix}/${name}`,
        description: `${props.namePrefix}: environment variable ${name}`,
        generateSecretString: { passwordLength: 48, excludePunctuation: true },
      });
      return [name, secret] as const;
    });
    this.byEnvName = Object.fromEntries(entries) as Record<SecretEnvName, secretsmanager.Secret>;
    acknowledge(
      this,
      'Issued by Stripe and the OAuth provider, so they are rotated there and then stored here; a rotation ' +
        'Lambda cannot mint them. ADMIN_TOKEN is rotated the same way, by an operator.',
      'SMG4',
    );
  }

  all(): secretsmanager.Secret[] {
    return Object.values(this.byEnvName);
  }
}
