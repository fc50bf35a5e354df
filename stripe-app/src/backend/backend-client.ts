import { asProblem, problemText, type Problem } from './problem';

/** What went wrong with a back-end call, in the terms the UI shows. */
export type BackendFailureKind =
  | 'signed-out' // 401: no third-party account connected for this Stripe user
  | 'not-found' // 404
  | 'rejected' // 400: the back-end could not verify the Stripe signature
  | 'server' // 5xx
  | 'unreachable' // network error, CORS refusal, blocked by the app's CSP
  | 'misconfigured' // no usable back-end URL or Dashboard identity
  | 'unexpected'; // any other status, an unreadable answer, signing failed

export interface BackendFailure {
  kind: BackendFailureKind;
  message: string;
  status?: number;
  problem?: Problem;
}

export type BackendResult<T> = { ok: true; status: number; data: T } | { ok: false; failure: BackendFailure };

/** Everything a signed call needs: where to go and who is asking. */
export interface BackendClient {
  baseUrl: string;
  userId: string;
  accountId: string;
  /** `fetchStripeSignature` in the Dashboard; a stub in tests. */
  sign: () => Promise<string>;
}

export interface CallOptions<T> {
  method?: 'GET' | 'POST' | 'DELETE';
  signal?: AbortSignal;
  /** Checks the 2xx body's shape; `undefined` for answers without one (204). */
  read?: (body: unknown) => body is T;
}

/**
 * Calls the hooklane back-end the way its Stripe App middleware expects: a fresh
 * Dashboard signature over {user_id, account_id} plus both ids on every request.
 */
export async function callBackend<T = undefined>(
  client: BackendClient,
  path: string,
  options: CallOptions<T> = {},
): Promise<BackendResult<T>> {
  const signed = await signatureOf(client);
  if (!signed.ok) return signed;
  let response: Response;
  try {
    response = await fetch(`${client.baseUrl}${path}`, {
      method: options.method ?? 'GET',
      headers: {
        'stripe-signature': signed.data,
        'stripe-user-id': client.userId,
        'stripe-account-id': client.accountId,
        'Content-Type': 'application/json',
      },
      signal: options.signal,
    });
  } catch (error) {
    return unreachable(client.baseUrl, error);
  }
  return readResponse(response, options.read);
}

/** The page that starts the OAuth sign-in; the state lets the back-end check who asked. */
export async function signInUrl(client: BackendClient): Promise<BackendResult<string>> {
  const signed = await signatureOf(client);
  if (!signed.ok) return signed;
  const state = JSON.stringify({ userId: client.userId, accountId: client.accountId, signature: signed.data });
  return { ok: true, status: 200, data: `${client.baseUrl}/api/oauth/login?state=${encodeURIComponent(state)}` };
}

async function signatureOf(client: BackendClient): Promise<BackendResult<string>> {
  try {
    return { ok: true, status: 200, data: await client.sign() };
  } catch (error) {
    return failed('unexpected', `The Stripe Dashboard could not sign the request: ${reason(error)}`);
  }
}

async function readResponse<T>(response: Response, read: CallOptions<T>['read']): Promise<BackendResult<T>> {
  const body = await bodyOf(response);
  if (response.ok) {
    if (read === undefined) return { ok: true, status: response.status, data: undefined as T };
    if (read(body)) return { ok: true, status: response.status, data: body };
    return failed('unexpected', `hooklane answered ${response.status} with an unexpected body.`, response.status);
  }
  return { ok: false, failure: failureFor(response.status, asProblem(body)) };
}

function failureFor(status: number, problem: Problem | undefined): BackendFailure {
  // Quoted inside our own sentences, so without its closing full stop.
  const detail = problemText(problem)?.replace(/\.$/, '');
  const base = { status, problem };
  if (status === 401) return { ...base, kind: 'signed-out', message: detail ?? 'No account is connected' };
  if (status === 404) return { ...base, kind: 'not-found', message: detail ?? 'Not found' };
  if (status === 400 && isSignatureRefusal(problem)) {
    return {
      ...base,
      kind: 'rejected',
      message: `hooklane could not verify this request from the Stripe Dashboard${detail ? ` (${detail})` : ''}. `
        + "Its STRIPE_APP_SECRET must be this app's signing secret.",
    };
  }
  if (status >= 500) {
    return { ...base, kind: 'server', message: `hooklane is having trouble (${status}${detail ? `: ${detail}` : ''}). Try again in a moment.` };
  }
  return { ...base, kind: 'unexpected', message: `hooklane answered ${status}${detail ? `: ${detail}` : ''}.` };
}

// The back-end's codes for a refused caller; a 400 with another code is a bad request, not bad config.
const SIGNATURE_CODES = new Set(['STRIPE_APP_BAD_SIGNATURE', 'STRIPE_APP_MISSING_IDENTIFIERS']);

function isSignatureRefusal(problem: Problem | undefined): boolean {
  return problem?.code === undefined || SIGNATURE_CODES.has(problem.code);
}

async function bodyOf(response: Response): Promise<unknown> {
  const text = await response.text().catch(() => '');
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function unreachable(baseUrl: string, error: unknown): BackendResult<never> {
  // Browsers report a CSP block, a CORS refusal and a dead host alike as a TypeError.
  return failed('unreachable', `Cannot reach hooklane at ${baseUrl} (${reason(error)}). `
    + "Check that it is running and that its URL is in the app's content security policy.");
}

function failed(kind: BackendFailureKind, message: string, status?: number): BackendResult<never> {
  return { ok: false, failure: { kind, message, status } };
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
