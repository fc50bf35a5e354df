import { randomBytes } from 'node:crypto';
import type { EmulatedRequest } from './stripe-emulator';
import { parameterInvalid, parameterMissing, resourceMissing } from './stripe-emulator-errors';

/** `apps.secret` as Stripe returns it (shape of `apps.secret` in Stripe's fixtures3.json). */
export interface EmulatedSecret {
  id: string;
  object: 'apps.secret';
  created: number;
  expires_at: number | null;
  livemode: boolean;
  name: string;
  payload: string;
  scope: { type: 'account' } | { type: 'user'; user: string };
}

type Scope = EmulatedSecret['scope'];

/** The Secret Store's behaviour: create-or-replace by (account, scope, name); find; delete_where; list. */
export class SecretsEmulation {
  private readonly secrets = new Map<string, EmulatedSecret>();

  create({ params, account, livemode }: EmulatedRequest): Record<string, unknown> {
    const name = requiredString(params, 'name');
    const payload = requiredString(params, 'payload');
    const scope = readScope(params);
    const expiresAt = params.expires_at === undefined ? null : Number(params.expires_at);
    const secret: EmulatedSecret = {
      id: `appsecret_${randomBytes(15).toString('base64url').replace(/[-_]/g, '0')}`,
      object: 'apps.secret',
      created: Math.floor(Date.now() / 1000),
      expires_at: expiresAt,
      livemode,
      name,
      payload,
      scope,
    };
    this.secrets.set(storeKey(account, scope, name), secret);
    return view(secret, params);
  }

  find({ params, account }: EmulatedRequest): Record<string, unknown> {
    const name = requiredString(params, 'name');
    const secret = this.live(storeKey(account, readScope(params), name));
    if (!secret) throw resourceMissing(`No such secret: '${name}'`, 'name');
    return view(secret, params);
  }

  deleteWhere({ params, account }: EmulatedRequest): Record<string, unknown> {
    const name = requiredString(params, 'name');
    const key = storeKey(account, readScope(params), name);
    const secret = this.live(key);
    if (!secret) throw resourceMissing(`No such secret: '${name}'`, 'name');
    this.secrets.delete(key);
    return { ...view(secret, params), deleted: true };
  }

  list({ params, account }: EmulatedRequest): Record<string, unknown> {
    const prefix = storeKey(account, readScope(params), '');
    const data = [...this.secrets.entries()]
      .filter(([key]) => key.startsWith(prefix) && this.live(key))
      .map(([, secret]) => view(secret, params));
    return { object: 'list', data, has_more: false, url: '/v1/apps/secrets' };
  }

  /** Every stored secret of an account (for tests and the dev banner). */
  all(account: string): EmulatedSecret[] {
    return [...this.secrets.entries()].filter(([key]) => key.startsWith(`${account}|`)).map(([, s]) => s);
  }

  private live(key: string): EmulatedSecret | undefined {
    const secret = this.secrets.get(key);
    if (secret?.expires_at && secret.expires_at * 1000 <= Date.now()) {
      this.secrets.delete(key);
      return undefined;
    }
    return secret;
  }
}

function storeKey(account: string, scope: Scope, name: string): string {
  return `${account}|${scope.type}|${scope.type === 'user' ? scope.user : ''}|${name}`;
}

/** The payload is only in the answer when asked for with `expand[]=payload`, as on Stripe. */
function view(secret: EmulatedSecret, params: Record<string, unknown>): Record<string, unknown> {
  const expand = Array.isArray(params.expand) ? params.expand : [];
  const { payload, ...rest } = secret;
  return expand.includes('payload') ? { ...rest, payload } : rest;
}

function requiredString(params: Record<string, unknown>, name: string): string {
  const value = params[name];
  if (typeof value !== 'string' || value === '') throw parameterMissing(name);
  return value;
}

function readScope(params: Record<string, unknown>): Scope {
  const scope = params.scope;
  if (typeof scope !== 'object' || scope === null) throw parameterMissing('scope');
  const { type, user } = scope as Record<string, unknown>;
  if (type === 'account') return { type: 'account' };
  if (type === 'user') {
    if (typeof user !== 'string' || user === '') throw parameterMissing('scope[user]');
    return { type: 'user', user };
  }
  if (type === undefined) throw parameterMissing('scope[type]');
  throw parameterInvalid('scope[type]', `Invalid scope[type]: must be one of account or user`);
}
