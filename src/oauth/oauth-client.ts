import * as client from 'openid-client';
import type { Config } from '../config';
import { AppError } from '../errors';
import type { Logger } from '../logger';
import '../stripe/stripe-app-errors';

export type OAuthConfig = Pick<
  Config,
  | 'NODE_ENV'
  | 'OAUTH_ISSUER'
  | 'OAUTH_AUTHORIZATION_ENDPOINT'
  | 'OAUTH_TOKEN_ENDPOINT'
  | 'OAUTH_USERINFO_ENDPOINT'
  | 'OAUTH_CLIENT_ID'
  | 'OAUTH_CLIENT_SECRET'
  | 'OAUTH_REDIRECT_URI'
  | 'OAUTH_SCOPES'
  | 'OAUTH_TIMEOUT_MS'
>;

export interface TokenPair {
  accessToken: string;
  refreshToken?: string;
}

export type UserInfo = client.UserInfoResponse;

/**
 * The third-party provider, through openid-client: issuer discovery (OAUTH_ISSUER) or explicit endpoints.
 * Discovery happens on first use and is retried after a failure, so a provider that is down at boot
 * makes sign-in answer 502 instead of stopping the web process.
 */
export class OAuthClient {
  private configuration: Promise<client.Configuration> | undefined;

  constructor(
    private readonly config: OAuthConfig,
    private readonly logger: Logger,
  ) {}

  /** The provider's authorize URL: code flow, PKCE S256, `state` bound to a one-time login state. */
  async authorizationUrl(params: { state: string; codeVerifier: string }): Promise<URL> {
    const configuration = await this.configure();
    const scope = this.config.OAUTH_SCOPES;
    return client.buildAuthorizationUrl(configuration, {
      redirect_uri: this.redirectUri().href,
      scope,
      state: params.state,
      code_challenge: await client.calculatePKCECodeChallenge(params.codeVerifier),
      code_challenge_method: 'S256',
      // OpenID Connect grants offline_access (a refresh token) only when consent is asked for explicitly.
      ...(scope.split(' ').includes('offline_access') ? { prompt: 'consent' } : {}),
    });
  }

  /** Exchanges the code in the provider's redirect (`query` is its query string) for tokens. */
  async exchangeCode(query: URLSearchParams, checks: { expectedState: string; codeVerifier: string }): Promise<TokenPair> {
    const configuration = await this.configure();
    const callbackUrl = this.redirectUri();
    callbackUrl.search = query.toString();
    const tokens = await this.call('token exchange', () =>
      client.authorizationCodeGrant(configuration, callbackUrl, {
        expectedState: checks.expectedState,
        pkceCodeVerifier: checks.codeVerifier,
      }),
    );
    return { accessToken: tokens.access_token, refreshToken: tokens.refresh_token };
  }

  async refresh(refreshToken: string): Promise<TokenPair> {
    const configuration = await this.configure();
    const tokens = await this.call('token refresh', () => client.refreshTokenGrant(configuration, refreshToken));
    return { accessToken: tokens.access_token, refreshToken: tokens.refresh_token ?? refreshToken };
  }

  async userInfo(accessToken: string): Promise<UserInfo> {
    const configuration = await this.configure();
    // The token came from our own Secret Store entry for this user; there is no ID token to compare with.
    return this.call('userinfo', () => client.fetchUserInfo(configuration, accessToken, client.skipSubjectCheck));
  }

  /**
   * Revokes tokens at the provider when it has a revocation endpoint (RFC 7009). Best effort: sign-out
   * has already deleted them from the Secret Store, so a failure here is logged, not returned.
   */
  async revoke(tokens: Partial<TokenPair>): Promise<void> {
    try {
      const configuration = await this.configure();
      if (!configuration.serverMetadata().revocation_endpoint) return;
      // Revoking the refresh token ends the whole grant at most providers; the access token goes too.
      for (const token of [tokens.refreshToken, tokens.accessToken]) {
        if (token) await client.tokenRevocation(configuration, token);
      }
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'token revocation at the provider failed');
    }
  }

  private redirectUri(): URL {
    return new URL(required(this.config.OAUTH_REDIRECT_URI, 'OAUTH_REDIRECT_URI'));
  }

  private configure(): Promise<client.Configuration> {
    this.configuration ??= this.build().catch((err: unknown) => {
      this.configuration = undefined;
      throw err;
    });
    return this.configuration;
  }

  private async build(): Promise<client.Configuration> {
    const { config } = this;
    const clientId = required(config.OAUTH_CLIENT_ID, 'OAUTH_CLIENT_ID');
    const clientSecret = required(config.OAUTH_CLIENT_SECRET, 'OAUTH_CLIENT_SECRET');
    const explicit = config.OAUTH_AUTHORIZATION_ENDPOINT && config.OAUTH_TOKEN_ENDPOINT && config.OAUTH_USERINFO_ENDPOINT;
    let configuration: client.Configuration;
    if (explicit) {
      const server: client.ServerMetadata = {
        issuer: config.OAUTH_ISSUER ?? new URL(config.OAUTH_AUTHORIZATION_ENDPOINT!).origin,
        authorization_endpoint: config.OAUTH_AUTHORIZATION_ENDPOINT,
        token_endpoint: config.OAUTH_TOKEN_ENDPOINT,
        userinfo_endpoint: config.OAUTH_USERINFO_ENDPOINT,
      };
      configuration = new client.Configuration(server, clientId, clientSecret);
    } else {
      const issuer = new URL(required(config.OAUTH_ISSUER, 'OAUTH_ISSUER'));
      configuration = await this.call('discovery', () =>
        client.discovery(issuer, clientId, clientSecret, undefined, {
          execute: this.insecureAllowed(issuer) ? [client.allowInsecureRequests] : [],
          timeout: this.config.OAUTH_TIMEOUT_MS / 1000,
        }),
      );
      this.logger.info({ issuer: issuer.href }, 'oauth provider discovered');
    }
    configuration.timeout = this.config.OAUTH_TIMEOUT_MS / 1000;
    if (explicit && this.insecureAllowed(new URL(config.OAUTH_TOKEN_ENDPOINT!))) client.allowInsecureRequests(configuration);
    return configuration;
  }

  /** Plain http only reaches the local emulator; config refuses http URLs in production. */
  private insecureAllowed(url: URL): boolean {
    return url.protocol === 'http:' && this.config.NODE_ENV !== 'production';
  }

  private async call<T>(step: string, request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (err) {
      throw toOAuthError(step, err);
    }
  }
}

function required(value: string | undefined, key: string): string {
  if (!value) throw new AppError('STRIPE_APP_NOT_CONFIGURED', `${key} is not set.`);
  return value;
}

/**
 * The provider answered with an OAuth error (bad code, revoked token, user denied): 401.
 * It did not answer, or not in a way OAuth allows (timeouts, 5xx even with an OAuth error body, garbage): 502.
 */
export function toOAuthError(step: string, err: unknown): AppError {
  if (err instanceof AppError) return err;
  const serverError = err instanceof client.ResponseBodyError && err.status >= 500;
  if (
    (!serverError && err instanceof client.ResponseBodyError) ||
    err instanceof client.AuthorizationResponseError ||
    err instanceof client.WWWAuthenticateChallengeError
  ) {
    const code = 'error' in err ? String(err.error) : 'invalid_token';
    return new AppError('OAUTH_PROVIDER_REJECTED', `The authentication server refused the ${step} (${code}).`, {
      cause: err,
    });
  }
  return new AppError('OAUTH_PROVIDER_UNREACHABLE', `The authentication server did not answer the ${step}.`, { cause: err });
}
