import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/logger';
import { createRedis } from '../../src/redis';
import { startIntakeMover } from '../../src/worker/intake-mover';

/**
 * hooklane's intake mover on its own, for the end-to-end reference row: with a bare BullMQ Worker (which
 * has no mover) it turns the web's accepted webhooks into jobs exactly as hooklane's worker does.
 */
const config = loadConfig();
const logger = createLogger({ level: config.LOG_LEVEL, name: 'mover' });
const connection = createRedis(config, 'worker');
const mover = startIntakeMover(config, connection, logger);
process.on('SIGTERM', () => {
  void mover.stop().then(() => process.exit(0));
});
process.stdout.write('mover started\n');
