import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { AppError } from '../errors';
import type { Lifecycle } from '../lifecycle';
import { recordIntake } from '../metrics/prometheus';
import { acceptStripeWebhook, type WebhookIntakeDeps } from '../stripe/webhook-intake';
import { parseByteSize, readBoundedBody } from './fast-path-body';
import { jsonAnswer, problemAnswer, writeAnswer, type Answer } from './fast-path-response';
import { toAppError } from './problem';
import { clientIpOf } from './client-ip';
import { requestIdFor } from './request-context';
import { STRIPE_WEBHOOK_PATH } from './webhook-route';

export interface FastPathDeps extends WebhookIntakeDeps {
  config: WebhookIntakeDeps['config'] & { BODY_LIMIT: string; TRUST_PROXY: number };
  lifecycle: Lifecycle;
}

/**
 * Only plain deliveries take the fast path: POST to exactly the webhook path, body not content-encoded.
 * Anything else (a query string, gzip, another method) goes to Express, whose route answers it the same
 * way, so the fast path never has to re-implement an edge case.
 */
export function takesFastPath(req: IncomingMessage): boolean {
  if (req.method !== 'POST' || req.url !== STRIPE_WEBHOOK_PATH) return false;
  const encoding = req.headers['content-encoding'];
  return encoding === undefined || encoding.toLowerCase() === 'identity';
}

/**
 * After a 413, a body of a declared, moderate size is read and discarded (Node does it when the answer is
 * sent) so the client, still sending, gets the answer instead of a reset; anything larger or of unknown
 * size gets the answer and the connection is closed.
 */
function drainable(req: IncomingMessage, limit: number): boolean {
  const declared = Number(req.headers['content-length']);
  return Number.isFinite(declared) && declared <= limit * 16;
}

/** What the delivery's one line says about a refusal: why, never the signature. */
function refusal(error: AppError, err: unknown): Pick<WebhookAnswer, 'logMsg' | 'logFields'> {
  if (error.status === 400) {
    return { logMsg: 'stripe webhook refused', logFields: { code: error.code, reason: (error.cause as Error | undefined)?.message?.split('\n')[0] } };
  }
  if (error.status >= 500 && error.code === 'INTERNAL') return { logMsg: 'request failed', logFields: { code: error.code, err } };
  return { logMsg: 'request rejected', logFields: { code: error.code, detail: error.detail } };
}

type WebhookAnswer = Answer & {
  duplicate?: boolean;
  /** The problem code of a refusal, for the metrics. */
  code?: string;
  eventId?: string;
  accountId?: string;
  /** trace_id and span_id of the delivery's intake span (while tracing). */
  trace?: Record<string, string | undefined>;
  /** For the delivery's one log line. */
  logMsg?: string;
  logFields?: Record<string, unknown>;
};

/** Who sent a request, as Express's req.ip would say (TRUST_PROXY hops of X-Forwarded-For). */
const clientIp = (deps: FastPathDeps, req: IncomingMessage) => clientIpOf(req, deps.config.TRUST_PROXY);

async function answerWebhook(deps: FastPathDeps, limit: number, req: IncomingMessage, requestId: string): Promise<WebhookAnswer> {
  let body: Buffer;
  try {
    body = await readBoundedBody(req, limit);
  } catch (err) {
    if (err instanceof AppError) {
      return { ...problemAnswer(err, STRIPE_WEBHOOK_PATH, requestId), ...refusal(err, err), code: err.code, close: !drainable(req, limit) };
    }
    throw err;
  }
  const signature = req.headers['stripe-signature'];
  try {
    const answer = await acceptStripeWebhook(deps, body, Array.isArray(signature) ? signature[0] : signature);
    const { eventId, accountId, trace } = answer;
    return { ...jsonAnswer(answer.status, answer.body, answer.headers), duplicate: answer.body.duplicate, eventId, accountId, ...(trace ? { trace } : {}) };
  } catch (err) {
    const error = toAppError(err);
    return { ...problemAnswer(error, STRIPE_WEBHOOK_PATH, requestId), ...refusal(error, err), code: error.code };
  }
}

/**
 * `POST /webhooks/stripe` straight on node:http, in front of Express: the same intake function, the same
 * answers (request id, problem+json, 413 over BODY_LIMIT, 503 while Redis is away) without Express's
 * per-request middleware and body parsing, which cost more than verifying and storing the event.
 * Every other request goes to `app`.
 */
export function withWebhookFastPath(deps: FastPathDeps, app: RequestListener): RequestListener {
  const limit = parseByteSize(deps.config.BODY_LIMIT);
  // The delivery line has a fixed shape with no header, body or secret in it, so it skips redaction,
  // which costs three times what the rest of the line does.
  const accessLog = deps.logger.child({}, { redact: [] });
  return (req, res) => {
    if (!takesFastPath(req)) {
      app(req, res);
      return;
    }
    const started = performance.now();
    const requestId = requestIdFor(req);
    answerWebhook(deps, limit, req, requestId)
      .catch((err: unknown): WebhookAnswer => {
        const error = toAppError(err);
        return { ...problemAnswer(error, STRIPE_WEBHOOK_PATH, requestId), code: error.code };
      })
      .then((answer) => respond(deps, accessLog, req, res, answer, requestId, started))
      // Never an unhandled rejection (the process exits on those): a socket that broke while answering.
      .catch((err: unknown) => {
        deps.logger.warn({ requestId, err }, 'could not answer a webhook delivery');
        res.destroy();
      });
  };
}

function respond(
  deps: FastPathDeps,
  accessLog: FastPathDeps['logger'],
  req: IncomingMessage,
  res: ServerResponse,
  answer: WebhookAnswer,
  requestId: string,
  started: number,
): void {
  // Nobody to answer: the client went away mid-body.
  if (res.destroyed || (req.destroyed && !req.complete)) return;
  // While draining, ask the client (the load balancer) not to reuse the connection.
  const close = answer.close || deps.lifecycle.shuttingDown;
  writeAnswer(res, close ? { ...answer, close } : answer, requestId);
  const seconds = (performance.now() - started) / 1000;
  // Array increments (src/metrics/hot-path-metrics.ts, tens of nanoseconds): no label is built per delivery.
  if (answer.duplicate !== undefined) recordIntake(answer.duplicate ? 'duplicate' : 'accepted', seconds);
  else recordIntake('rejected', seconds, answer.code);
  // One line per delivery (Express logs two: the route's and pino-http's), with the ids pino-http's line has.
  const line = {
    requestId,
    clientIp: clientIp(deps, req),
    ...(answer.eventId ? { eventId: answer.eventId } : {}),
    ...(answer.accountId ? { accountId: answer.accountId } : {}),
    ...answer.trace,
    req: { method: 'POST', url: STRIPE_WEBHOOK_PATH, remoteAddress: req.socket.remoteAddress },
    res: { statusCode: answer.status },
    responseTime: Math.round(seconds * 1000),
  };
  if (answer.duplicate !== undefined) accessLog.info({ ...line, duplicate: answer.duplicate }, 'stripe event accepted');
  else if (answer.status >= 500) accessLog.error({ ...line, ...answer.logFields }, answer.logMsg ?? 'request errored');
  else accessLog.warn({ ...line, ...answer.logFields }, answer.logMsg ?? 'request completed');
}
