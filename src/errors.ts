/**
 * The catalogue of stable error codes a client can see. Each code has one HTTP status and one title;
 * docs/*.md list them and a test keeps the two in step.
 */
export const ERROR_CATALOGUE = {
  NOT_FOUND: { status: 404, title: 'Not found' },
  METHOD_NOT_ALLOWED: { status: 405, title: 'Method not allowed' },
  MALFORMED_JSON: { status: 400, title: 'Malformed JSON body' },
  VALIDATION_FAILED: { status: 400, title: 'Request is not valid' },
  PAYLOAD_TOO_LARGE: { status: 413, title: 'Request body is too large' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'Unsupported media type' },
  JOB_NOT_FOUND: { status: 404, title: 'Job not found' },
  IDEMPOTENCY_KEY_REUSED: { status: 422, title: 'Idempotency key was used with a different body' },
  REDIS_UNAVAILABLE: { status: 503, title: 'Queue storage is unavailable' },
  SHUTTING_DOWN: { status: 503, title: 'Server is shutting down' },
  UNAUTHORIZED: { status: 401, title: 'Unauthorized' },
  RATE_LIMITED: { status: 429, title: 'Too many requests' },
  ORIGIN_NOT_VERIFIED: { status: 403, title: 'Request did not come through the CDN' },
  INTERNAL: { status: 500, title: 'Internal server error' },
} as const satisfies Record<string, { status: number; title: string }>;

/** Extended by other modules with their own codes through {@link registerErrorCodes}. */
const catalogue: Record<string, { status: number; title: string }> = { ...ERROR_CATALOGUE };

export function registerErrorCodes(codes: Record<string, { status: number; title: string }>): void {
  for (const [code, entry] of Object.entries(codes)) {
    const existing = catalogue[code];
    if (existing && (existing.status !== entry.status || existing.title !== entry.title)) {
      throw new Error(`error code ${code} registered twice with different meanings`);
    }
    catalogue[code] = entry;
  }
}

export function errorCatalogue(): Readonly<Record<string, { status: number; title: string }>> {
  return catalogue;
}

/** The one error type that carries a stable code to the client. */
export class AppError extends Error {
  readonly status: number;
  readonly title: string;
  readonly headers: Record<string, string>;
  /** Extra members for the problem body (RFC 9457 extension members). */
  readonly extra: Record<string, unknown>;

  constructor(
    readonly code: string,
    readonly detail?: string,
    options: { headers?: Record<string, string>; cause?: unknown; extra?: Record<string, unknown> } = {},
  ) {
    const entry = catalogue[code];
    if (!entry) throw new Error(`unknown error code ${code}`);
    super(detail ?? entry.title, { cause: options.cause });
    this.name = 'AppError';
    this.status = entry.status;
    this.title = entry.title;
    this.headers = options.headers ?? {};
    this.extra = options.extra ?? {};
  }
}

export function redisUnavailable(cause?: unknown): AppError {
  return new AppError('REDIS_UNAVAILABLE', 'Redis did not acknowledge the write; nothing was stored. Retry later.', {
    headers: { 'Retry-After': '5' },
    cause,
  });
}
