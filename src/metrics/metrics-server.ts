import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { AppError } from '../errors';
import type { Logger } from '../logger';

export const METRICS_PATH = '/metrics';

export interface MetricsServerOptions {
  /** METRICS_HOST: 127.0.0.1 by default, so nothing off this host (or container) can reach it. */
  host: string;
  /** METRICS_PORT; 0 picks a free one (tests). */
  port: number;
  registry: Registry;
  logger: Logger;
}

export interface MetricsServer {
  server: Server;
  host: string;
  port: number;
  close(): Promise<void>;
}

/** RFC 9457, as the web's problem handler writes it (src/web/problem.ts), for the few refusals of this port. */
const problem = (res: ServerResponse, error: AppError) => {
  const type = `urn:hooklane:problem:${error.code.toLowerCase().replace(/_/g, '-')}`;
  const body = JSON.stringify({ type, title: error.title, status: error.status, detail: error.detail ?? error.title, code: error.code });
  res.writeHead(error.status, { ...error.headers, 'content-type': 'application/problem+json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
};

async function answer(registry: Registry, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  if (path !== METRICS_PATH) return problem(res, new AppError('NOT_FOUND', `Only ${METRICS_PATH} is served on this port.`));
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    return problem(res, new AppError('METHOD_NOT_ALLOWED', `${req.method} is not allowed here; use GET.`, { headers: { Allow: 'GET, HEAD' } }));
  }
  const text = await registry.metrics();
  res.writeHead(200, { 'content-type': registry.contentType, 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(req.method === 'HEAD' ? undefined : text);
}

/**
 * `GET /metrics` on a port of its own (METRICS_PORT), never on the web's public port: the ALB and CloudFront
 * forward only the web's port, and this one listens on loopback by default, so the metrics (queue depths,
 * error rates: useful to an attacker) are reachable from this host only, with no token to leak or rotate.
 * A plain node:http server: the worker has no HTTP server otherwise, and the web's Express stack (origin
 * check, helmet, rate limits) has nothing to add on a loopback port.
 */
export async function startMetricsServer({ host, port, registry, logger }: MetricsServerOptions): Promise<MetricsServer> {
  const server = createServer((req, res) => {
    answer(registry, req, res).catch((err: unknown) => {
      logger.warn({ err: (err as Error).message }, 'could not collect metrics');
      if (!res.headersSent) problem(res, new AppError('INTERNAL', 'The metrics could not be collected.'));
      else res.destroy();
    });
  });
  // A scraper polls every 15 to 60 s: idle sockets need not stay open long.
  server.keepAliveTimeout = 5000;
  server.requestTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  logger.info({ host: address.address, port: address.port, path: METRICS_PATH }, 'metrics listening');
  // In a container 0.0.0.0 is expected (compose publishes the port on the host's loopback); anywhere else it is a choice to make knowingly.
  if (!isLoopback(address.address)) logger.info({ host: address.address }, 'the metrics port is not on loopback: keep it unforwarded (docs/operations.md#prometheus-metrics)');
  return {
    server,
    host: address.address,
    port: address.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const isLoopback = (address: string) => address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');

/**
 * Starts the metrics server when METRICS_PORT is set; a port it cannot bind is logged, never fatal: metrics
 * must not take the intake or the worker down.
 */
export async function startMetricsServerIfConfigured(
  config: { METRICS_PORT?: number | undefined; METRICS_HOST: string },
  registry: () => Registry,
  logger: Logger,
): Promise<MetricsServer | undefined> {
  if (config.METRICS_PORT === undefined) {
    logger.info('METRICS_PORT is not set: no Prometheus /metrics endpoint');
    return undefined;
  }
  try {
    return await startMetricsServer({ host: config.METRICS_HOST, port: config.METRICS_PORT, registry: registry(), logger });
  } catch (err) {
    logger.error({ err: (err as Error).message, host: config.METRICS_HOST, port: config.METRICS_PORT }, 'could not start the metrics server');
    return undefined;
  }
}
