/** A deployment that did not reach Ready + Green; `events` are the EB events that explain why. */
export class DeployError extends Error {
  constructor(
    message: string,
    readonly events: string[] = [],
  ) {
    super(message);
    this.name = 'DeployError';
  }
}

const CREDENTIAL_ERRORS = new Set([
  'CredentialsProviderError',
  'ExpiredToken',
  'ExpiredTokenException',
  'InvalidClientTokenId',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'SignatureDoesNotMatch',
]);

/** Turns an AWS SDK failure into one line a user can act on, or undefined if it is not a setup problem. */
export function explainAwsSetupError(err: unknown): string | undefined {
  if (!(err instanceof Error)) return undefined;
  if (CREDENTIAL_ERRORS.has(err.name) || /could not load credentials/i.test(err.message)) {
    return (
      `No usable AWS credentials (${err.message}). Sign in first, e.g. \`aws sso login --profile <profile>\` ` +
      'and `export AWS_PROFILE=<profile>`, or set AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY.'
    );
  }
  if (/region is missing/i.test(err.message)) {
    return 'No AWS region: pass --region <region> or set AWS_REGION.';
  }
  if (err.name === 'AccessDenied' || err.name === 'AccessDeniedException' || err.name === 'InsufficientPrivilegesException') {
    return `AWS denied the call: ${err.message}`;
  }
  return undefined;
}
