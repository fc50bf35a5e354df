/**
 * What the console needs and nothing else: its own scripts, styles and API, no inline code, no framing.
 * Shared by the web process (local) and the CloudFront response headers policy (infra/lib/cdn.ts), so the
 * console gets one policy wherever it is served from.
 */
export const CONSOLE_CSP_DIRECTIVES: Record<string, string[]> = {
  'default-src': ["'self'"],
  'script-src': ["'self'"],
  'script-src-attr': ["'none'"],
  'style-src': ["'self'"],
  'img-src': ["'self'"],
  'font-src': ["'self'"],
  'connect-src': ["'self'"],
  'object-src': ["'none'"],
  'base-uri': ["'none'"],
  'form-action': ["'self'"],
  'frame-ancestors': ["'none'"],
  'require-trusted-types-for': ["'script'"],
};

/** The directives as one Content-Security-Policy header value. */
export function consoleCspHeader(): string {
  return Object.entries(CONSOLE_CSP_DIRECTIVES)
    .map(([name, values]) => `${name} ${values.join(' ')}`)
    .join(';');
}
