/** What an API key may do. A key created without scopes gets all of them. */
export const API_KEY_SCOPES = ['jobs:write', 'jobs:read'] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

/** An API key as it is listed: never its secret nor its hash. Times are ISO strings. */
export interface ApiKeyView {
  id: string;
  name: string;
  scopes: ApiKeyScope[];
  createdAt: string;
  /** Updated at most once a minute per key, so it can lag the last use by that much. */
  lastUsedAt: string | null;
  revokedAt: string | null;
}

/** The answer to a create: the only time the plaintext key exists outside its owner's hands. */
export interface CreatedApiKey {
  key: ApiKeyView;
  /** `hl_<id>_<secret>`: shown once, never stored (Redis holds only the secret's SHA-256). */
  token: string;
}
