import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { AppError } from '../errors';
import { PROBLEM_CONTENT_TYPE, problemType } from './problem';

export interface Answer {
  status: number;
  contentType: string;
  body: string;
  headers?: Record<string, string>;
  /** Close the connection after this answer (unread body left on the socket, or shutting down). */
  close?: boolean;
}

export function jsonAnswer(status: number, body: unknown, headers?: Record<string, string>): Answer {
  return { status, contentType: 'application/json; charset=utf-8', body: JSON.stringify(body), ...(headers ? { headers } : {}) };
}

/** The same RFC 9457 document `sendProblem` writes through Express. */
export function problemAnswer(error: AppError, instance: string, requestId: string): Answer {
  const body = JSON.stringify({
    type: problemType(error.code),
    title: error.title,
    status: error.status,
    detail: error.detail ?? error.title,
    code: error.code,
    instance,
    requestId,
    ...error.extra,
  });
  return { status: error.status, contentType: `${PROBLEM_CONTENT_TYPE}; charset=utf-8`, body, headers: error.headers };
}

/** Writes `answer` in one writeHead + end, with the request id. */
export function writeAnswer(res: ServerResponse, answer: Answer, requestId: string): void {
  const headers: OutgoingHttpHeaders = {
    ...answer.headers,
    'x-request-id': requestId,
    'content-type': answer.contentType,
    'content-length': Buffer.byteLength(answer.body),
  };
  if (answer.close) headers.connection = 'close';
  res.writeHead(answer.status, headers);
  res.end(answer.body);
}
