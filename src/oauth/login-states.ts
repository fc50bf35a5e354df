import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
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

/** What Redis keeps per state: only a hash of the browser nonce, so a Redis dump cannot finish a sign-in. */
interface StoredLogin extends PendingLogin {
  nonceHash: string;
}

export interface BegunLogin {
  state: string;
  codeVerifier: string;
  /** Goes to the browser that asked for /login (a cookie) and must come back with the callback. */
  browserNonce: string;
}

const STATE = /^[A-Za-z0-9_-]{32,128}$/;

const sha256 = (value: string) => createHash('sha256').update(value).digest();

/**
 * One-time sign-in states in Redis. The random state sent to the provider is the key; the Stripe user,
 * the PKCE verifier and a hash of the browser nonce are its value. GETDEL consumes it atomically, so a
 * replayed callback (or two instances racing on the same one) finds nothing. Each user's pending states
 * are also indexed, so signing out cancels them.
 */
export class LoginStates {
  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
    private readonly deadlineMs: number,
  ) {}

  async begin(caller: StripeAppCaller): Promise<BegunLogin> {
    const state = randomBytes(32).toString('base64url');
    const browserNonce = randomBytes(32).toString('base64url');
    const codeVerifier = client.randomPKCECodeVerifier();
    const value: StoredLogin = { caller, codeVerifier, nonceHash: sha256(browserNonce).toString('hex') };
    const userKey = this.userKey(caller);
    await withRedisDeadline(this.redis, this.deadlineMs, async () => {
      const results = await this.redis
        .multi()
        .set(this.key(state), JSON.stringify(value), 'EX', LOGIN_STATE_TTL_SECONDS)
        .sadd(userKey, state)
        // The index lives as long as its newest state; members that expired on their own are harmless.
        .expire(userKey, LOGIN_STATE_TTL_SECONDS)
        .exec();
      // EXEC reports a command's own failure in its results, not as a rejection.
      const failed = results?.find(([err]) => err)?.[0];
      if (failed) throw failed;
    });
    return { state, codeVerifier, browserNonce };
  }

  /**
   * The pending sign-in for `state`, removed so it can be used once; undefined if unknown, used or expired.
   * `sameBrowser` says whether `browserNonce` (the callback's cookie) is the one /login handed out, compared
   * in constant time. The state is used up either way: a callback that reached another browser means the
   * link travelled, so that sign-in is over, and a code stolen from the victim's redirect can never be
   * replayed through the attacker's own browser.
   */
  async consume(state: unknown, browserNonce: string | undefined): Promise<(PendingLogin & { sameBrowser: boolean }) | undefined> {
    if (typeof state !== 'string' || !STATE.test(state)) return undefined;
    const raw = await withRedisDeadline(this.redis, this.deadlineMs, () => this.redis.getdel(this.key(state)));
    if (!raw) return undefined;
    const { nonceHash, ...pending } = JSON.parse(raw) as StoredLogin;
    await withRedisDeadline(this.redis, this.deadlineMs, () => this.redis.srem(this.userKey(pending.caller), state));
    const sameBrowser = browserNonce !== undefined && timingSafeEqual(sha256(browserNonce), Buffer.from(nonceHash, 'hex'));
    return { ...pending, sameBrowser };
  }

  /** Cancels every pending sign-in of this user (on sign-out); one begun while this runs counts as begun after it. */
  async cancelAll(caller: StripeAppCaller): Promise<void> {
    const userKey = this.userKey(caller);
    await withRedisDeadline(this.redis, this.deadlineMs, async () => {
      const states = await this.redis.smembers(userKey);
      await this.redis.del(userKey, ...states.map((state) => this.key(state)));
    });
  }

  private key(state: string): string {
    return `${this.keyPrefix}:oauth:login:${state}`;
  }

  private userKey(caller: StripeAppCaller): string {
    return `${this.keyPrefix}:oauth:login-user:${caller.accountId}:${caller.userId}`;
  }
}

/** The cookie that carries the browser nonce of one sign-in; named after its state so sign-ins in two tabs coexist. */
export function loginCookieName(state: string): string {
  return `hooklane_login_${createHash('sha256').update(state).digest('base64url').slice(0, 16)}`;
}
