import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** Secrets `npm start` makes up for the local emulators; kept in .data/ so a restart keeps connections working. */
export interface DevSecrets {
  stripeSecretKey: string;
  stripeAppSecret: string;
  stripeWebhookSecret: string;
  oauthClientSecret: string;
  oidcCookieKey: string;
  demoPassword: string;
  /** ADMIN_TOKEN for the operator console. */
  adminToken: string;
}

const token = (bytes: number) => randomBytes(bytes).toString('base64url').replace(/[-_]/g, 'x');

function generate(): DevSecrets {
  return {
    stripeSecretKey: `sk_test_dev${token(24)}`,
    stripeAppSecret: `absec_dev${token(24)}`,
    stripeWebhookSecret: `whsec_dev${token(24)}`,
    oauthClientSecret: token(32),
    oidcCookieKey: token(32),
    demoPassword: 'demo',
    adminToken: `dev-admin-${token(24)}`,
  };
}

/** Reads `.data/dev-secrets.json`, creating it (mode 0600) with fresh secrets the first time. */
export function loadDevSecrets(dataDir: string): DevSecrets {
  const file = path.join(dataDir, 'dev-secrets.json');
  if (existsSync(file)) {
    const stored = JSON.parse(readFileSync(file, 'utf8')) as Partial<DevSecrets>;
    const complete = { ...generate(), ...stored };
    if (Object.keys(stored).length !== Object.keys(complete).length) writeFileSync(file, JSON.stringify(complete, null, 2), { mode: 0o600 });
    return complete;
  }
  mkdirSync(dataDir, { recursive: true });
  const secrets = generate();
  writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  return secrets;
}
