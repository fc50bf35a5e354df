import type { IncomingMessage } from 'node:http';

/**
 * The client's address as Express computes `req.ip` with `trust proxy` set to a hop count: the socket's
 * peer, then X-Forwarded-For read from the right, trusting `trustedHops` proxies (the ALB is one). For the
 * webhook fast path, which answers without Express; an address further left than the trusted hops is
 * whatever the client claimed, so it is never used.
 */
export function clientIpOf(req: IncomingMessage, trustedHops: number): string | undefined {
  const peer = req.socket.remoteAddress;
  const header = req.headers['x-forwarded-for'];
  if (trustedHops === 0 || typeof header !== 'string') return peer;
  const forwarded = header.split(',');
  // addresses[0] is the peer, addresses[i] the i-th hop from the right of the header.
  const hop = Math.min(trustedHops, forwarded.length);
  return forwarded[forwarded.length - hop]!.trim() || peer;
}
