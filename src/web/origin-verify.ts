import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, RequestListener } from 'node:http';
import type { Config } from '../config';
import { AppError } from '../errors';
import type { Logger } from '../logger';
import { problemAnswer, writeAnswer } from './fast-path-response';
import { requestIdFor } from './request-context';

/** Added by CloudFront to every request it sends to the load balancer (infra/lib/origin-verify.ts). */
export const ORIGIN_VERIFY_HEADER = 'x-origin-verify';

/** The load balancer's health checks reach instances directly, never through CloudFront. */
const HEALTH_CHECK_PATHS = new Set(['/healthz', '/readyz']);

export interface OriginVerifyDeps {
  config: Pick<Config, 'ORIGIN_VERIFY_SECRET'>;
  logger: Logger;
}

/**
 * Compares in constant time for values of the secret's length; a value of another length is refused at
 * once, which tells an attacker only the length (64, and documented). Every accepted value is compared, so
 * the time does not say which one matched either. The presented value is copied into a buffer made once
 * (headers are latin1 strings), so the check allocates nothing per request.
 */
function matchesAny(presented: string | string[] | undefined, accepted: { value: Buffer; scratch: Buffer }[]): boolean {
  if (typeof presented !== 'string') return false;
  let match = false;
  for (const { value, scratch } of accepted) {
    if (presented.length !== value.length) continue;
    scratch.write(presented, 0, 'latin1');
    if (timingSafeEqual(scratch, value)) match = true;
  }
  return match;
}

/** The address that connected to the load balancer: the last X-Forwarded-For hop, which the ALB appends. */
function clientIpOf(req: IncomingMessage): string | undefined {
  const forwarded = req.headers['x-forwarded-for'];
  const last = (Array.isArray(forwarded) ? forwarded.at(-1) : forwarded)?.split(',').at(-1)?.trim();
  return last || req.socket.remoteAddress;
}

/**
 * In front of everything, the webhook fast path included: with ORIGIN_VERIFY_SECRET set, a request without
 * one of its values in X-Origin-Verify did not come through our CloudFront distribution (the origin-facing
 * prefix list admits every distribution, so someone else's could skip our web ACL) and gets 403
 * ORIGIN_NOT_VERIFIED. Unset (local runs), the listener is returned as it is: no cost at all.
 */
export function withOriginVerify(deps: OriginVerifyDeps, next: RequestListener): RequestListener {
  const accepted = deps.config.ORIGIN_VERIFY_SECRET?.map((value) => ({ value: Buffer.from(value, 'latin1'), scratch: Buffer.alloc(value.length) }));
  if (!accepted?.length) return next;
  const refusal = new AppError('ORIGIN_NOT_VERIFIED', 'Requests reach this service only through its CDN.');
  return (req, res) => {
    if (matchesAny(req.headers[ORIGIN_VERIFY_HEADER], accepted)) {
      next(req, res);
      return;
    }
    const path = (req.url ?? '/').split('?', 1)[0]!;
    if (HEALTH_CHECK_PATHS.has(path)) {
      next(req, res);
      return;
    }
    const requestId = requestIdFor(req);
    deps.logger.warn(
      { requestId, code: refusal.code, clientIp: clientIpOf(req), remoteAddress: req.socket.remoteAddress, method: req.method, url: path },
      'request not through our CloudFront distribution',
    );
    // An unread body is not worth draining for a caller that should not be here.
    writeAnswer(res, { ...problemAnswer(refusal, path, requestId), close: true }, requestId);
  };
}
