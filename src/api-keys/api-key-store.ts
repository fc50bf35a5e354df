import type { Redis } from 'ioredis';
import { AppError, registerErrorCodes } from '../errors';
import { hashApiKeySecret, isApiKeyId, newApiKeyToken, parseApiKeyToken, secretMatches } from './api-key-token';
import { API_KEY_SCOPES, type ApiKeyScope, type ApiKeyView, type CreatedApiKey } from './api-key-types';

registerErrorCodes({
  API_KEY_NOT_FOUND: { status: 404, title: 'API key not found' },
});

/** Why a presented key was refused: `malformed`/`unknown` are 401 to a client, `revoked` is 403. */
export type ApiKeyRefusal = 'malformed' | 'unknown' | 'revoked';
export type ApiKeyVerification = { ok: true; key: ApiKeyView } | { ok: false; reason: ApiKeyRefusal };

export interface ApiKeyStoreOptions {
  /** The deployment's QUEUE_PREFIX: keys live beside its queues, under `<prefix>:api-keys:`. */
  prefix: string;
  /** lastUsedAt is written at most this often per key and process (default a minute). */
  lastUsedWriteIntervalMs?: number;
  now?: () => number;
  /** Told when a lastUsedAt write fails: it never fails the request that used the key. */
  onTouchError?: (err: unknown) => void;
}

const NAME = /^[^\p{Cc}]{1,100}$/u;
// Bounds the in-process memory of when each key's lastUsedAt was last written.
const MAX_TOUCHED = 10_000;

type StoredKey = Record<'name' | 'hash' | 'scopes' | 'createdAt' | 'lastUsedAt' | 'revokedAt', string | undefined>;

const iso = (ms: string | undefined) => (ms ? new Date(Number(ms)).toISOString() : null);

function parseScopes(value: string | undefined): ApiKeyScope[] {
  const listed = (value ?? '').split(',');
  return API_KEY_SCOPES.filter((scope) => listed.includes(scope));
}

/** Checks what an admin asked for; no scopes means every scope. */
export function validateNewKey(input: { name?: unknown; scopes?: unknown }): { name: string; scopes: ApiKeyScope[] } {
  const name = typeof input.name === 'string' ? input.name.trim() : '';
  if (!NAME.test(name)) throw new AppError('VALIDATION_FAILED', 'name: 1-100 characters, no control characters.');
  if (input.scopes === undefined || input.scopes === null) return { name, scopes: [...API_KEY_SCOPES] };
  const scopes = input.scopes;
  const known = API_KEY_SCOPES as readonly unknown[];
  if (!Array.isArray(scopes) || scopes.some((s) => !known.includes(s))) {
    throw new AppError('VALIDATION_FAILED', `scopes: a list of ${API_KEY_SCOPES.join(', ')}.`);
  }
  return { name, scopes: scopes.length ? API_KEY_SCOPES.filter((s) => scopes.includes(s)) : [...API_KEY_SCOPES] };
}

/**
 * API keys in Redis. Only a key's SHA-256 is stored, never its secret; a key is shown once, when it is
 * created. Revoked keys are kept (marked) so a client using one learns it was revoked (403), not that it
 * never existed, and the console can show when it was revoked.
 */
export class ApiKeyStore {
  private readonly indexKey: string;
  private readonly keyPrefix: string;
  private readonly touchInterval: number;
  private readonly now: () => number;
  private readonly touched = new Map<string, number>();

  constructor(
    private readonly redis: Redis,
    private readonly options: ApiKeyStoreOptions,
  ) {
    this.indexKey = `${options.prefix}:api-keys:index`;
    this.keyPrefix = `${options.prefix}:api-keys:key:`;
    this.touchInterval = options.lastUsedWriteIntervalMs ?? 60_000;
    this.now = options.now ?? Date.now;
  }

  /** Stores a new key and returns it with its plaintext token, which is never available again. */
  async create(input: { name?: unknown; scopes?: unknown }): Promise<CreatedApiKey> {
    const { name, scopes } = validateNewKey(input);
    const { id, secret, token } = newApiKeyToken();
    const createdAt = this.now();
    const stored = { name, hash: hashApiKeySecret(secret), scopes: scopes.join(','), createdAt: String(createdAt) };
    await this.redis.multi().hset(this.keyPrefix + id, stored).zadd(this.indexKey, createdAt, id).exec();
    return { key: this.view(id, stored as StoredKey), token };
  }

  /** Every key, oldest first; never a secret or a hash. */
  async list(): Promise<ApiKeyView[]> {
    const ids = await this.redis.zrange(this.indexKey, 0, -1);
    if (!ids.length) return [];
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.hgetall(this.keyPrefix + id);
    const replies = (await pipeline.exec()) ?? [];
    return ids.flatMap((id, i) => {
      const [err, stored] = replies[i] ?? [];
      if (err) throw err;
      const fields = stored as StoredKey;
      return fields.hash ? [this.view(id, fields)] : [];
    });
  }

  async get(id: string): Promise<ApiKeyView | undefined> {
    if (!isApiKeyId(id)) return undefined;
    const stored = (await this.redis.hgetall(this.keyPrefix + id)) as StoredKey;
    return stored.hash ? this.view(id, stored) : undefined;
  }

  /** Marks the key revoked (the first revocation time is kept); undefined when there is no such key. */
  async revoke(id: string): Promise<ApiKeyView | undefined> {
    if (!(await this.get(id))) return undefined;
    await this.redis.hsetnx(this.keyPrefix + id, 'revokedAt', String(this.now()));
    return this.get(id);
  }

  /** Like {@link revoke}, but an unknown id is a 404 API_KEY_NOT_FOUND. */
  async revokeOrThrow(id: string): Promise<ApiKeyView> {
    const key = await this.revoke(id);
    if (!key) throw new AppError('API_KEY_NOT_FOUND', `No API key with id ${isApiKeyId(id) ? id : '(malformed)'}.`);
    return key;
  }

  /**
   * Checks a presented `hl_<id>_<secret>`. The secret is checked before the revocation, so someone who only
   * knows an id learns nothing about it. Records the use (lastUsedAt) without waiting for it.
   */
  async verify(token: string): Promise<ApiKeyVerification> {
    const parsed = parseApiKeyToken(token);
    if (!parsed) return { ok: false, reason: 'malformed' };
    const stored = (await this.redis.hgetall(this.keyPrefix + parsed.id)) as StoredKey;
    if (!stored.hash || !secretMatches(parsed.secret, stored.hash)) return { ok: false, reason: 'unknown' };
    if (stored.revokedAt) return { ok: false, reason: 'revoked' };
    this.touch(parsed.id, stored.lastUsedAt);
    return { ok: true, key: this.view(parsed.id, stored) };
  }

  /**
   * lastUsedAt costs no Redis write per request: it is written only when the stored value is older than the
   * interval, and at most once per interval by this process (so N instances write at most N times).
   */
  private touch(id: string, storedLastUsed: string | undefined): void {
    const now = this.now();
    if (storedLastUsed && now - Number(storedLastUsed) < this.touchInterval) return;
    const lastWrite = this.touched.get(id);
    if (lastWrite !== undefined && now - lastWrite < this.touchInterval) return;
    if (this.touched.size >= MAX_TOUCHED) this.touched.clear();
    this.touched.set(id, now);
    this.redis.hset(this.keyPrefix + id, 'lastUsedAt', String(now)).catch((err: unknown) => this.options.onTouchError?.(err));
  }

  private view(id: string, stored: StoredKey): ApiKeyView {
    return {
      id,
      name: stored.name ?? '',
      scopes: parseScopes(stored.scopes),
      createdAt: iso(stored.createdAt) ?? new Date(0).toISOString(),
      lastUsedAt: iso(stored.lastUsedAt),
      revokedAt: iso(stored.revokedAt),
    };
  }
}
