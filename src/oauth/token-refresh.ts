import { AppError } from '../errors';
import type { SecretStore } from '../stripe/secret-store';
import type { StripeAppCaller } from '../stripe/verify-stripe-app-caller';
import type { OAuthClient } from './oauth-client';
import type { RefreshLock } from './refresh-lock';

export interface TokenRefresherDeps {
  secretStore: Pick<SecretStore, 'findAccessToken' | 'findRefreshToken' | 'storeTokens'>;
  oauth: Pick<OAuthClient, 'refresh'>;
  lock: RefreshLock;
  /**
   * How long one renewal may hold the lock, and how long the others wait for it: longer than the
   * provider call and the Secret Store calls around it can take, or a second renewal could start with
   * the refresh token the first one has just used up.
   */
  lockTtlMs: number;
}

/**
 * Renews a user's access token at most once at a time across every instance. Providers that rotate
 * refresh tokens treat a refresh token used twice as stolen and revoke the whole grant, so concurrent
 * requests that all saw the access token refused must not each refresh: one does, under the lock; the
 * others wait for it and read the new token back from the Secret Store.
 */
export class TokenRefresher {
  constructor(private readonly deps: TokenRefresherDeps) {}

  /**
   * An access token to use instead of `rejected`: renewed here, or already renewed by another request.
   * Undefined when it cannot be renewed (no refresh token stored, or the user signed out meanwhile).
   */
  async renew(caller: StripeAppCaller, rejected: string): Promise<string | undefined> {
    const { lock, lockTtlMs, secretStore } = this.deps;
    const deadline = Date.now() + lockTtlMs;
    for (;;) {
      const held = await lock.acquire(caller, lockTtlMs);
      if (held) {
        try {
          return await this.renewHoldingLock(caller, rejected);
        } finally {
          // A release that fails leaves the lock to expire with its TTL; the answer does not depend on it.
          await lock.release(caller, held).catch(() => undefined);
        }
      }
      await lock.waitForRelease(caller, deadline);
      const current = await secretStore.findAccessToken(caller);
      if (current !== rejected) return current;
      // Still the refused token: the renewal failed or its holder died. Try to take the lock ourselves.
      if (Date.now() >= deadline) {
        throw new AppError('OAUTH_PROVIDER_UNREACHABLE', 'The token refresh did not finish in time; try again.');
      }
    }
  }

  private async renewHoldingLock(caller: StripeAppCaller, rejected: string): Promise<string | undefined> {
    const { secretStore, oauth } = this.deps;
    // Another request may have renewed it between our refusal and taking the lock.
    const current = await secretStore.findAccessToken(caller);
    if (current !== rejected) return current;
    const refreshToken = await secretStore.findRefreshToken(caller);
    if (!refreshToken) return undefined;
    const tokens = await oauth.refresh(refreshToken);
    await secretStore.storeTokens(caller, tokens);
    return tokens.accessToken;
  }
}
