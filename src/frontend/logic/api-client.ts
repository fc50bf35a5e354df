/**
 * The console's only way to the server. Relative `/api/...` paths only: in production the same files are
 * served by CloudFront, which routes /api/* to the web tier.
 */

export type ApiErrorKind =
  | 'unauthorized'
  | 'rate-limited'
  | 'unavailable'
  | 'not-found'
  | 'conflict'
  | 'invalid'
  | 'network'
  | 'server';

/** An RFC 9457 problem (or a network failure) as the views need it. */
export class ApiError extends Error {
  constructor(
    readonly kind: ApiErrorKind,
    message: string,
    readonly status: number,
    readonly code: string,
    readonly retryAfterSeconds: number | null = null,
    readonly requestId: string | null = null,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

interface Problem {
  title?: unknown;
  detail?: unknown;
  code?: unknown;
  requestId?: unknown;
}

function kindFor(status: number): ApiErrorKind {
  if (status === 401 || status === 403) return 'unauthorized';
  if (status === 429) return 'rate-limited';
  if (status === 503) return 'unavailable';
  if (status === 404) return 'not-found';
  if (status === 409 || status === 422) return 'conflict';
  if (status >= 400 && status < 500) return 'invalid';
  return 'server';
}

/** Reads a failed response; a body that is not a problem document still gives a useful error. */
export async function toApiError(res: Response): Promise<ApiError> {
  let problem: Problem = {};
  try {
    const parsed: unknown = JSON.parse(await res.text());
    if (parsed && typeof parsed === 'object') problem = parsed as Problem;
  } catch {
    // An HTML error page from a proxy, for instance: keep the status.
  }
  const text = (v: unknown) => (typeof v === 'string' && v ? v : null);
  const retryAfter = Number(res.headers.get('retry-after'));
  return new ApiError(
    kindFor(res.status),
    text(problem.detail) ?? text(problem.title) ?? `The server answered ${res.status}.`,
    res.status,
    text(problem.code) ?? `HTTP_${res.status}`,
    Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : null,
    text(problem.requestId) ?? res.headers.get('x-request-id'),
  );
}

export function networkError(cause: unknown): ApiError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new ApiError('network', `The server could not be reached (${reason}).`, 0, 'NETWORK');
}

/** What to tell the operator to do about an error. */
export function adviceFor(error: ApiError): string {
  switch (error.kind) {
    case 'unauthorized':
      return 'Sign in again with the ADMIN_TOKEN of this deployment.';
    case 'rate-limited':
      return `Too many requests from this address; wait ${error.retryAfterSeconds ?? 60} s and try again.`;
    case 'unavailable':
      return 'Redis is not answering. Check the Redis (ElastiCache) status; this page retries by itself.';
    case 'not-found':
      return 'It may have been removed or expired (finished jobs are kept for a limited time). Go back to the list.';
    case 'conflict':
      return 'Its state changed in the meantime. Reload it and try again if the action still applies.';
    case 'invalid':
      return 'Check the values you entered.';
    case 'network':
      return 'Check your connection; this page retries by itself.';
    case 'server':
      return `Something failed on the server. Give the request id ${error.requestId ?? '(none)'} to whoever reads the logs.`;
  }
}

/**
 * A headline for an error. The server's detail is specific for not-found, conflict and invalid input;
 * for outages it speaks of the request (e.g. "nothing was stored"), so the console says it plainly.
 */
export function headlineFor(error: ApiError): string {
  switch (error.kind) {
    case 'unauthorized':
      return 'Your admin token was not accepted.';
    case 'rate-limited':
      return 'Too many requests.';
    case 'unavailable':
      return 'The server cannot reach Redis right now.';
    case 'network':
      return error.message;
    case 'server':
      return 'Something failed on the server.';
    default:
      return error.message;
  }
}

export type Query = Record<string, string | number | undefined | null>;

export interface ApiClientOptions {
  fetch: typeof fetch;
  getToken: () => string | null;
  /** Called on any 401, so the app can ask for the token again. */
  onUnauthorized?: (error: ApiError) => void;
}

export interface ApiClient {
  get<T>(path: string, query?: Query): Promise<T>;
  post<T>(path: string, body?: unknown): Promise<T>;
  del<T>(path: string): Promise<T>;
}

export function withQuery(path: string, query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
  }
  const search = params.toString();
  return search ? `${path}?${search}` : path;
}

export function createApiClient(options: ApiClientOptions): ApiClient {
  const request = async <T>(method: string, path: string, body?: unknown, token = options.getToken()): Promise<T> => {
    if (!path.startsWith('/api/')) throw new Error(`the console only calls relative /api/ paths, not ${path}`);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await options.fetch(path, {
        method,
        headers,
        credentials: 'omit',
        cache: 'no-store',
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    } catch (err) {
      throw networkError(err);
    }
    if (!res.ok) {
      const error = await toApiError(res);
      if (error.kind === 'unauthorized') options.onUnauthorized?.(error);
      throw error;
    }
    return (await res.json()) as T;
  };
  return {
    get: (path, query) => request('GET', withQuery(path, query)),
    post: (path, body) => request('POST', path, body ?? {}),
    del: (path) => request('DELETE', path),
  };
}

/** Checks a token before keeping it: the session endpoint answers 200 only for the right one. */
export async function verifyToken(fetchFn: typeof fetch, token: string): Promise<{ tokenId: string }> {
  const client = createApiClient({ fetch: fetchFn, getToken: () => token });
  return client.get<{ tokenId: string }>('/api/admin/session');
}
