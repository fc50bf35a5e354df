import type { ErrorRequestHandler, RequestHandler, Response } from 'express';
import { AppError } from '../errors';
import type { Logger } from '../logger';
import { describeRequestLine } from './request-context';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export function problemType(code: string): string {
  return `urn:hooklane:problem:${code.toLowerCase().replace(/_/g, '-')}`;
}

/** Writes an RFC 9457 problem document for `error`. */
export function sendProblem(res: Response, error: AppError): void {
  res.status(error.status);
  for (const [name, value] of Object.entries(error.headers)) res.setHeader(name, value);
  res.type(PROBLEM_CONTENT_TYPE).send(
    JSON.stringify({
      type: problemType(error.code),
      title: error.title,
      status: error.status,
      detail: error.detail ?? error.title,
      code: error.code,
      instance: res.req.originalUrl,
      requestId: res.getHeader('x-request-id'),
      ...error.extra,
    }),
  );
}

interface HttpError {
  type?: string;
  status?: number;
  statusCode?: number;
  expose?: boolean;
}

/** Maps body-parser's error types (and anything else thrown) onto the catalogue. */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  const httpError = (err ?? {}) as HttpError;
  switch (httpError.type) {
    case 'entity.parse.failed':
      return new AppError('MALFORMED_JSON', 'The request body is not valid JSON.');
    case 'entity.too.large':
      return new AppError('PAYLOAD_TOO_LARGE', 'The request body is larger than the configured limit.');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new AppError('UNSUPPORTED_MEDIA_TYPE', 'The request body encoding or charset is not supported.');
    case 'request.aborted':
      return new AppError('VALIDATION_FAILED', 'The request was aborted by the client.');
    default:
      break;
  }
  const status = httpError.status ?? httpError.statusCode;
  if (status === 404) return new AppError('NOT_FOUND');
  if (status === 413) return new AppError('PAYLOAD_TOO_LARGE');
  if (status === 415) return new AppError('UNSUPPORTED_MEDIA_TYPE');
  if (status && status >= 400 && status < 500) return new AppError('VALIDATION_FAILED');
  return new AppError('INTERNAL', 'An unexpected error occurred; it has been logged.', { cause: err });
}

export const notFoundHandler: RequestHandler = (req, _res, next) => {
  next(new AppError('NOT_FOUND', `No route for ${req.method} ${req.path}.`));
};

/** The one place anything thrown becomes a response; stacks go to the log, never to the client. */
export function problemHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const error = toAppError(err);
    const bug = error.status >= 500 && error.code !== 'REDIS_UNAVAILABLE' && error.code !== 'SHUTTING_DOWN';
    if (req.log) {
      // One line per request: the closing line carries the code (and a bug's stack, through res.err).
      const cause = error.cause instanceof Error ? error.cause.message.split('\n')[0] : undefined;
      describeRequestLine(res, bug ? 'request failed' : 'request rejected', { code: error.code, detail: error.detail, ...(cause ? { cause } : {}) });
      if (bug) (res as typeof res & { err?: unknown }).err = err;
    } else if (bug) {
      logger.error({ err, code: error.code }, 'request failed');
    } else {
      logger.warn({ code: error.code, detail: error.detail }, 'request rejected');
    }
    if (res.headersSent) {
      res.destroy();
      return;
    }
    sendProblem(res, error);
  };
}
