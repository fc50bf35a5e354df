import { createServer } from 'node:http';
import { loadConfigOrExit } from '../config';
import { exitOnUncaught, onTerminationSignals, runShutdownSteps } from '../lifecycle';
import { createLogger } from '../logger';
import { assertNoEviction, waitForRedis } from '../redis';
import { createWebDeps } from './deps';
import { createWebListener } from './listener';
import { closeServer } from './server';

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const logger = createLogger({ level: config.LOG_LEVEL, name: 'web' });
  exitOnUncaught(logger);

  const deps = createWebDeps(config, logger);
  await waitForRedis(deps.redis, config.REDIS_BOOT_TIMEOUT_MS);
  await assertNoEviction(deps.redis);

  // The origin check, then POST /webhooks/stripe on node:http before Express (the hot path), then Express.
  const server = createServer(createWebListener(deps));
  if (!config.ORIGIN_VERIFY_SECRET) logger.info('ORIGIN_VERIFY_SECRET is not set: requests are not checked for the CDN\'s header');
  // The ALB's idle timeout is 60 s; keeping ours longer avoids 502s from connections it thinks are open.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  // Bounds slow-body clients so they cannot hold sockets and memory for ever.
  server.requestTimeout = 30_000;

  onTerminationSignals(logger, config.SHUTDOWN_TIMEOUT_MS + 2000, () =>
    runShutdownSteps(
      [
        { name: 'stop accepting', run: () => deps.lifecycle.beginShutdown() },
        { name: 'drain http', run: () => closeServer(server, config.SHUTDOWN_TIMEOUT_MS) },
        ...deps.closeSteps,
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

main().catch((err: unknown) => {
  process.stderr.write(
    `${JSON.stringify({ level: 'fatal', msg: 'web failed to start', err: err instanceof Error ? err.message : String(err) })}\n`,
  );
  process.exit(1);
});
