import { useMemo } from 'react';
import type { ExtensionContextValue } from '@stripe/ui-extension-sdk/context';
import { fetchStripeSignature } from '@stripe/ui-extension-sdk/utils';
import { callBackend, signInUrl, type BackendResult, type CallOptions } from './backend-client';
import { resolveBackendUrl } from './backend-url';

/** The hooklane back-end as a view sees it: signed calls and the sign-in page. */
export interface Backend {
  call<T = undefined>(path: string, options?: CallOptions<T>): Promise<BackendResult<T>>;
  signInUrl(): Promise<BackendResult<string>>;
}

/**
 * The one way views reach the back-end. Every call carries `stripe-signature`
 * (from `fetchStripeSignature()`), `stripe-user-id`, `stripe-account-id` and the
 * JSON content type; answers come back as results the UI can show, never throws.
 */
export function useBackend({ userContext, environment }: ExtensionContextValue): Backend {
  const resolved = resolveBackendUrl(environment);
  const baseUrl = resolved.ok ? resolved.url : undefined;
  const urlProblem = resolved.ok ? undefined : resolved.message;
  const userId = userContext?.id;
  const accountId = userContext?.account?.id;

  return useMemo(() => {
    if (baseUrl === undefined || !userId || !accountId) {
      const message = urlProblem ?? 'The Stripe Dashboard did not say which user and account this is.';
      return unusableBackend(message);
    }
    const client = { baseUrl, userId, accountId, sign: () => fetchStripeSignature() };
    return {
      call: (path, options) => callBackend(client, path, options),
      signInUrl: () => signInUrl(client),
    };
  }, [baseUrl, urlProblem, userId, accountId]);
}

function unusableBackend(message: string): Backend {
  const result: BackendResult<never> = { ok: false, failure: { kind: 'misconfigured', message } };
  return { call: async () => result, signInUrl: async () => result };
}
