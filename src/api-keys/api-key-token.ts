import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * `hl_<id>_<secret>`: the id (16 hex digits) names the record, the secret (256 random bits, 64 hex digits)
 * proves possession. The `hl_` prefix lets secret scanners and people recognise a leaked key.
 */
const TOKEN = /^hl_([0-9a-f]{16})_([0-9a-f]{64})$/;

export interface ParsedApiKeyToken {
  id: string;
  secret: string;
}

export function newApiKeyToken(): ParsedApiKeyToken & { token: string } {
  const id = randomBytes(8).toString('hex');
  const secret = randomBytes(32).toString('hex');
  return { id, secret, token: `hl_${id}_${secret}` };
}

export function parseApiKeyToken(token: string): ParsedApiKeyToken | undefined {
  const match = TOKEN.exec(token);
  return match ? { id: match[1]!, secret: match[2]! } : undefined;
}

export function isApiKeyId(id: string): boolean {
  return /^[0-9a-f]{16}$/.test(id);
}

/**
 * SHA-256 is enough for a 256-bit random secret: nothing to brute-force, so no slow KDF (which would cost
 * CPU on every request).
 */
export function hashApiKeySecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** Compares the presented secret's digest with the stored one in constant time. */
export function secretMatches(secret: string, storedHash: string): boolean {
  const presented = createHash('sha256').update(secret).digest();
  const stored = Buffer.from(storedHash, 'hex');
  return stored.length === presented.length && timingSafeEqual(presented, stored);
}
