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

type RequestLogBindings = Partial<Record<'eventId' | 'accountId' | 'clientIp', string>>;

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
    customLogLevel: (_req: IncomingMessage, res: ServerResponse, err?: Error) =>
      err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
    customAttributeKeys: { reqId: 'requestId' },
    // Asked again when the response finishes: the closing line gets what bindRequestLog added.
    customProps: (_req: IncomingMessage, res: ServerResponse) => bindingsOf(res) ?? {},
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
