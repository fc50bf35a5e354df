import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Request, RequestHandler, Response } from 'express';
import { pinoHttp } from 'pino-http';
import type { Logger } from '../logger';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const QUIET_PATHS = new Set(['/healthz', '/readyz']);

/** Honours a well-formed incoming X-Request-Id (e.g. from the ALB or CloudFront), else makes one. */
export function requestIdFor(req: IncomingMessage): string {
  const incoming = req.headers['x-request-id'];
  return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

type RequestLogBindings = Partial<Record<'eventId' | 'accountId' | 'clientIp' | 'trace_id' | 'span_id', string>>;

const bindingsOf = (res: ServerResponse): RequestLogBindings | undefined =>
  (res as Partial<Response>).locals?.logBindings as RequestLogBindings | undefined;

/**
 * Adds ids learnt while serving a request (the event, the Stripe account) to every later line of it:
 * the handler's own (`req.log`) and pino-http's closing line.
 *
 * Passed explicitly rather than through an AsyncLocalStorage context: once a process uses one, a hook
 * runs for every promise it makes, which cost the webhook fast path a tenth of its CPU (src/logger.ts).
 */
export function bindRequestLog(req: Request, res: Response, bindings: RequestLogBindings): void {
  // Absent only where a router is mounted without requestContext (unit tests).
  (req.log as Request['log'] | undefined)?.setBindings(bindings);
  res.locals.logBindings = { ...bindingsOf(res), ...bindings };
}

interface RequestLine {
  msg?: string;
  fields: Record<string, unknown>;
}

const requestLineOf = (res: ServerResponse): RequestLine | undefined =>
  (res as Partial<Response>).locals?.requestLine as RequestLine | undefined;

/**
 * Says what the request's one log line (pino-http's closing line) reports besides method, path and status:
 * a message (the first one given wins: the route knows best) and fields such as the error code or why a
 * signature was refused. One line per request, instead of a handler's line and the closing line.
 */
export function describeRequestLine(res: Response, msg: string | undefined, fields: Record<string, unknown> = {}): void {
  const line = requestLineOf(res);
  res.locals.requestLine = { msg: line?.msg ?? msg, fields: { ...line?.fields, ...fields } } satisfies RequestLine;
}

/** Says why a request was refused: on its one line when it has one (requestContext), else on a line of its own. */
export type RefusalReport = (fields: Record<string, unknown>, msg: string) => void;

export function refusalReport(req: Request, res: Response, logger: Pick<Logger, 'warn'>): RefusalReport {
  // req.log is absent only where a router is mounted without requestContext (unit tests).
  if ((req.log as Request['log'] | undefined) === undefined) return (fields, msg) => logger.warn(fields, msg);
  return (fields, msg) => describeRequestLine(res, msg, fields);
}

/** Whether a request's line is written at all: the dev dashboard's page and the signatures it asks for each click are not news. */
function quietSuccess(req: IncomingMessage): boolean {
  // originalUrl: inside a mounted router Express rewrites req.url relative to the mount.
  return ((req as Partial<Request>).originalUrl ?? req.url ?? '').startsWith('/dev/dashboard');
}

/**
 * Gives each request an id, returns it in X-Request-Id and a logger bound to it as `req.log`: every
 * line logged through it carries `requestId` and `clientIp`.
 */
export function requestContext(logger: Logger): RequestHandler[] {
  const assignId: RequestHandler = (req, res, next) => {
    const id = requestIdFor(req);
    (req as IncomingMessage & { id: string }).id = id;
    res.setHeader('x-request-id', id);
    next();
  };
  const httpLogger = pinoHttp({
    logger,
    genReqId: (req: IncomingMessage) => (req as IncomingMessage & { id: string }).id,
    // Load-balancer probes every few seconds would drown the log.
    autoLogging: { ignore: (req: IncomingMessage) => QUIET_PATHS.has(req.url ?? '') },
    customLogLevel: (req: IncomingMessage, res: ServerResponse, err?: Error) => {
      if (err || res.statusCode >= 500) return 'error';
      if (res.statusCode >= 400) return 'warn';
      return quietSuccess(req) ? 'debug' : 'info';
    },
    customSuccessMessage: (_req: IncomingMessage, res: ServerResponse) => requestLineOf(res)?.msg ?? 'request completed',
    customErrorMessage: (_req: IncomingMessage, res: ServerResponse) => requestLineOf(res)?.msg ?? 'request errored',
    customAttributeKeys: { reqId: 'requestId' },
    // Asked again when the response finishes: the closing line gets what bindRequestLog and describeRequestLine added.
    customProps: (_req: IncomingMessage, res: ServerResponse) => ({ ...bindingsOf(res), ...requestLineOf(res)?.fields }),
    quietReqLogger: true,
    // One line per request with what an operator needs. Neither headers nor query strings are logged: they
    // carry signatures, OAuth codes and the Stripe App's signed sign-in state.
    serializers: {
      req: (req: { id: string; method: string; url: string; remoteAddress?: string }) => ({
        method: req.method,
        url: req.url.split('?', 1)[0],
        remoteAddress: req.remoteAddress,
      }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
    },
  });
  // Every line of the request names the client, audit lines and failed sign-ins included. req.ip honours
  // TRUST_PROXY: the address the ALB saw, not whatever X-Forwarded-For a client claims.
  const bindClientIp: RequestHandler = (req, res, next) => {
    if (req.ip) bindRequestLog(req, res, { clientIp: req.ip });
    next();
  };
  return [assignId, httpLogger, bindClientIp];
}
