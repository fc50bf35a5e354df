import { Queue } from 'bullmq';
import { loadConfig } from '../../src/config';
import { EventIndex } from '../../src/events/event-index';
import { IntakeLog } from '../../src/events/intake-log';
import { createLogger } from '../../src/logger';
import { QUEUE_NAMES, queueOptions } from '../../src/queues';
import { createRedis } from '../../src/redis';
import { IntakeMover } from '../../src/worker/intake-mover';

/**
 * hooklane's intake mover on its own, for the end-to-end reference row: with a bare BullMQ Worker (which
 * has no mover) it turns the web's accepted webhooks into jobs exactly as hooklane's worker does.
 */
const config = loadConfig();
const logger = createLogger({ level: config.LOG_LEVEL, name: 'mover' });
const connection = createRedis(config, 'worker');
const reader = createRedis(config, 'worker');
const mover = new IntakeMover({
  reader: new IntakeLog(reader, config),
  log: new IntakeLog(connection, config),
  index: new EventIndex(connection, config),
  queue: new Queue(QUEUE_NAMES.stripeEvents, queueOptions(config, connection)),
  logger,
});
mover.start();
process.on('SIGTERM', () => {
  void mover.stop().then(() => process.exit(0));
});
process.stdout.write('mover started\n');
