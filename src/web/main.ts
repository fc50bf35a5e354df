import { createServer } from 'node:http';
import type { Router } from 'express';
import { loadConfigOrExit, type Config } from '../config';
import { exitOnUncaught, onTerminationSignals, runShutdownSteps } from '../lifecycle';
import { createLogger } from '../logger';
import { startMetricsServerIfConfigured } from '../metrics/metrics-server';
import { metricsRegistryFor } from '../metrics/prometheus';
import { startTracing, stopTracing } from '../telemetry/tracing';
import { assertNoEviction, waitForRedis } from '../redis';
import { createApp } from './app';
import { createWebDeps } from './deps';
import { HealthdLog, withHealthdLog } from './healthd-log';
import { createWebListener } from './listener';
import { applyServerTimeouts, closeServer } from './server';

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const logger = createLogger({ level: config.LOG_LEVEL, name: 'web' });
  exitOnUncaught(logger);
  // One trace per event when an OTLP endpoint is set (docs/operations.md#tracing); otherwise the SDK is never loaded.
  if (startTracing(config, 'web', { logger })) logger.info({ serviceName: config.OTEL_SERVICE_NAME ?? 'hooklane-web' }, 'tracing on: spans exported over OTLP/HTTP');

  const deps = createWebDeps(config, logger);
  await waitForRedis(deps.redis, config.REDIS_BOOT_TIMEOUT_MS, { redisUrl: config.REDIS_URL, logger });
  await assertNoEviction(deps.redis);

  const app = createApp({ ...deps, devRoutes: config.DEV_ROUTES ? loadDevRoutes(config) : undefined });
  // The origin check, then POST /webhooks/stripe on node:http before Express (the hot path), then Express.
  const listener = createWebListener(deps, app);
  // EB's health agent reads per-request lines that nginx would write; with Docker Compose there is no nginx.
  const healthd = config.HEALTHD_LOG_DIR ? new HealthdLog(config.HEALTHD_LOG_DIR, { onError: (msg) => logger.warn(msg) }) : undefined;
  const healthdFlusher = healthd?.start();
  const server = createServer(healthd ? withHealthdLog(healthd, listener) : listener);
  if (!config.ORIGIN_VERIFY_SECRET) logger.info('ORIGIN_VERIFY_SECRET is not set: requests are not checked for the CDN\'s header');
  applyServerTimeouts(server);

  // GET /metrics on METRICS_PORT (loopback), never on PORT, which the load balancer forwards.
  const metricsServer = await startMetricsServerIfConfigured(config, () => metricsRegistryFor('web'), logger);

  onTerminationSignals(logger, config.SHUTDOWN_TIMEOUT_MS + 2000, () =>
    runShutdownSteps(
      [
        { name: 'stop accepting', run: () => deps.lifecycle.beginShutdown() },
        { name: 'drain http', run: () => closeServer(server, config.SHUTDOWN_TIMEOUT_MS) },
        { name: 'flush health agent log', run: async () => healthdFlusher?.stop() },
        { name: 'stop serving metrics', run: async () => metricsServer?.close() },
        ...deps.closeSteps,
        { name: 'flush traces', run: () => stopTracing() },
      ],
      logger,
    ),
  );

  server.listen(config.PORT, config.HOST, () => {
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : config.PORT;
    logger.info({ port }, 'web listening');
  });
}

/**
 * The dev Stripe Dashboard, loaded only when `npm start`'s supervisor asked for it (DEV_ROUTES, which config
 * refuses in production): an explicit flag, never a consequence of NODE_ENV being unset.
 */
function loadDevRoutes(config: Config): Router {
  const { devDashboardRoutes } = require('../dev/dashboard-page') as typeof import('../dev/dashboard-page');
  return devDashboardRoutes(config);
}

main().catch((err: unknown) => {
  process.stderr.write(
    `${JSON.stringify({ level: 'fatal', msg: 'web failed to start', err: err instanceof Error ? err.message : String(err) })}\n`,
  );
  process.exit(1);
});
