import type { RequestListener } from 'node:http';
import { createApp } from './app';
import type { WebDeps } from './deps';
import { withWebhookFastPath } from './fast-path';
import { withOriginVerify } from './origin-verify';

/**
 * What web/main.ts serves: the origin check first (it must cover the webhook too), then the webhook fast
 * path on node:http, then the Express app.
 */
export function createWebListener(deps: WebDeps, app: RequestListener = createApp(deps)): RequestListener {
  return withOriginVerify(deps, withWebhookFastPath(deps, app));
}
