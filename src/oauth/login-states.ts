import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import * as client from 'openid-client';
import { withRedisDeadline } from '../jobs';
import type { StripeAppCaller } from '../stripe/verify-stripe-app-caller';

/** How long a sign-in may take between /login and the provider's redirect back. */
export const LOGIN_STATE_TTL_SECONDS = 600;

export interface PendingLogin {
  caller: StripeAppCaller;
  codeVerifier: string;
}

const STATE = /^[A-Za-z0-9_-]{32,128}$/;

/**
 * One-time sign-in states in Redis. The random state sent to the provider is the key; the Stripe user
 * and the PKCE verifier are its value. GETDEL consumes it atomically, so a replayed callback (or two
 * instances racing on the same one) finds nothing.
 */
export class LoginStates {
  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
    private readonly deadlineMs: number,
  ) {}

  async begin(caller: StripeAppCaller): Promise<{ state: string; codeVerifier: string }> {
    const state = randomBytes(32).toString('base64url');
    const codeVerifier = client.randomPKCECodeVerifier();
    const value: PendingLogin = { caller, codeVerifier };
    await withRedisDeadline(this.redis, this.deadlineMs, () =>
      this.redis.set(this.key(state), JSON.stringify(value), 'EX', LOGIN_STATE_TTL_SECONDS),
    );
    return { state, codeVerifier };
  }

  /** The pending sign-in for `state`, removed so it can be used once; undefined if unknown, used or expired. */
  async consume(state: unknown): Promise<PendingLogin | undefined> {
    if (typeof state !== 'string' || !STATE.test(state)) return undefined;
    const raw = await withRedisDeadline(this.redis, this.deadlineMs, () => this.redis.getdel(this.key(state)));
    return raw ? (JSON.parse(raw) as PendingLogin) : undefined;
  }

  private key(state: string): string {
    return `${this.keyPrefix}:oauth:login:${state}`;
  }
}
