import type { ExtensionContextValue } from '@stripe/ui-extension-sdk/context';

/** Manifest constant that holds the hooklane back-end's base URL. */
export const BACKEND_URL_CONSTANT = 'HOOKLANE_BACKEND_URL';

type Environment = ExtensionContextValue['environment'];

export type BackendUrlResult = { ok: true; url: string } | { ok: false; message: string };

/**
 * The back-end base URL for the Dashboard environment the view runs in.
 *
 * It comes from the manifest's `constants` (stripe-app.json for production,
 * stripe-app.dev.json for local development), either as one URL or per Dashboard
 * mode: `{ "live": "https://...", "test": "https://..." }`.
 */
export function resolveBackendUrl(environment: Environment): BackendUrlResult {
  const configured = environment.constants?.[BACKEND_URL_CONSTANT];
  const raw = typeof configured === 'object' && configured !== null && !Array.isArray(configured)
    ? configured[environment.mode]
    : configured;
  if (typeof raw !== 'string' || raw === '') {
    return { ok: false, message: `The app manifest sets no ${BACKEND_URL_CONSTANT} constant for ${environment.mode} mode.` };
  }
  return parseBackendUrl(raw);
}

function parseBackendUrl(raw: string): BackendUrlResult {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, message: `${BACKEND_URL_CONSTANT} is not a URL: ${raw}` };
  }
  // The Dashboard only lets an app reach HTTPS origins, plus plain HTTP on the
  // developer's own machine while `stripe apps start` runs.
  const local = url.hostname === 'localhost' || url.hostname === '127.0.0.1';
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && local)) {
    return { ok: false, message: `${BACKEND_URL_CONSTANT} must use https: ${raw}` };
  }
  return { ok: true, url: `${url.origin}${url.pathname.replace(/\/+$/, '')}` };
}
