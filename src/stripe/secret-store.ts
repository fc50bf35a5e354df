import type { Redis } from 'ioredis';
import Stripe from 'stripe';
import { AppError } from '../errors';
import { withRedisDeadline } from '../jobs';
import './stripe-app-errors';
import type { StripeAppCaller } from './verify-stripe-app-caller';

export const ACCESS_TOKEN_SECRET = 'access_token';
export const REFRESH_TOKEN_SECRET = 'refresh_token';

export interface StoredTokens {
  accessToken: string;
  refreshToken?: string;
}

export interface AccountCleanup {
  /** How many users of the account had tokens indexed. */
  users: number;
  /** Stripe said the platform has no access to the account any more; nothing could be, or needed to be, deleted. */
  accountGone: boolean;
}

/**
 * Stripe's answer to a request for an account the platform no longer has access to (the app was
 * uninstalled, or the account is gone): 403 with `account_invalid` and "does not have access to account".
 * A 403 about a key's missing permissions, or a refused key (401), is not this.
 */
export function isAccountGone(err: unknown): boolean {
  return (
    err instanceof Stripe.errors.StripeError &&
    err.statusCode === 403 &&
    (err.code === 'account_invalid' || /does not have access to account/.test(err.message))
  );
}

export interface SecretStoreDeps {
  stripe: Stripe;
  redis: Redis;
  /** Redis key prefix (QUEUE_PREFIX), so instances sharing a Redis keep their indexes apart. */
  keyPrefix: string;
  redisDeadlineMs: number;
}

/**
 * The only module that talks to Stripe's Secret Store. Tokens are secrets scoped to the Dashboard user
 * (`scope: {type: 'user', user}`) in the caller's account (`stripeAccount`), so one user never sees
 * another's. A Redis set remembers which users of an account have tokens, because the Secret Store
 * cannot list other users' secrets and a deauthorized account must lose all of them.
 */
export class SecretStore {
  constructor(private readonly deps: SecretStoreDeps) {}

  async storeTokens(caller: StripeAppCaller, tokens: StoredTokens): Promise<void> {
    // Index first: a crash before the secrets exist leaves a harmless extra member, never an orphan secret.
    await this.redis((r) => r.sadd(this.accountUsersKey(caller.accountId), caller.userId));
    await this.put(caller, ACCESS_TOKEN_SECRET, tokens.accessToken);
    if (tokens.refreshToken) await this.put(caller, REFRESH_TOKEN_SECRET, tokens.refreshToken);
  }

  /** The user's access token, or undefined when none is stored. */
  findAccessToken(caller: StripeAppCaller): Promise<string | undefined> {
    return this.find(caller, ACCESS_TOKEN_SECRET);
  }

  findRefreshToken(caller: StripeAppCaller): Promise<string | undefined> {
    return this.find(caller, REFRESH_TOKEN_SECRET);
  }

  /** Deletes the user's tokens; deleting what is not there is not an error (sign-out is idempotent). */
  async deleteUserSecrets(caller: StripeAppCaller): Promise<void> {
    await this.remove(caller, ACCESS_TOKEN_SECRET);
    await this.remove(caller, REFRESH_TOKEN_SECRET);
    await this.redis((r) => r.srem(this.accountUsersKey(caller.accountId), caller.userId));
  }

  /**
   * Deletes the tokens of every user of `accountId` (on `account.application.deauthorized`).
   * When Stripe answers that the platform no longer has access to the account (it uninstalled the app),
   * its secrets are out of everyone's reach and went with the installation: that is done, not a failure
   * to retry (`accountGone`). Any other failure throws, and the users stay indexed for the retry.
   */
  async deleteAccountSecrets(accountId: string): Promise<AccountCleanup> {
    const key = this.accountUsersKey(accountId);
    const userIds = await this.redis((r) => r.smembers(key));
    let accountGone = false;
    for (const userId of userIds) {
      try {
        await this.deleteUserSecrets({ userId, accountId });
      } catch (err) {
        if (!(err instanceof AppError) || !isAccountGone(err.cause)) throw err;
        accountGone = true;
        break;
      }
    }
    await this.redis((r) => r.del(key));
    return { users: userIds.length, accountGone };
  }

  private async put(caller: StripeAppCaller, name: string, payload: string): Promise<void> {
    await this.stripeCall(() =>
      this.deps.stripe.apps.secrets.create(
        { name, payload, scope: { type: 'user', user: caller.userId } },
        { stripeAccount: caller.accountId },
      ),
    );
  }

  private async find(caller: StripeAppCaller, name: string): Promise<string | undefined> {
    const secret = await this.stripeCall(() =>
      this.deps.stripe.apps.secrets.find(
        { name, scope: { type: 'user', user: caller.userId }, expand: ['payload'] },
        { stripeAccount: caller.accountId },
      ),
    );
    return secret?.payload ?? undefined;
  }

  private async remove(caller: StripeAppCaller, name: string): Promise<void> {
    await this.stripeCall(() =>
      this.deps.stripe.apps.secrets.deleteWhere(
        { name, scope: { type: 'user', user: caller.userId } },
        { stripeAccount: caller.accountId },
      ),
    );
  }

  /** Runs a Stripe call; a missing secret is `undefined`, any other failure is a 502 for the caller. */
  private async stripeCall<T>(call: () => Promise<T>): Promise<T | undefined> {
    try {
      return await call();
    } catch (err) {
      if (err instanceof Stripe.errors.StripeError && err.code === 'resource_missing') return undefined;
      throw new AppError('SECRET_STORE_UNAVAILABLE', `Stripe's Secret Store did not answer as expected.`, { cause: err });
    }
  }

  private redis<T>(write: (redis: Redis) => Promise<T>): Promise<T> {
    return withRedisDeadline(this.deps.redis, this.deps.redisDeadlineMs, () => write(this.deps.redis));
  }

  private accountUsersKey(accountId: string): string {
    return `${this.deps.keyPrefix}:stripe-app:account-users:${accountId}`;
  }
}
