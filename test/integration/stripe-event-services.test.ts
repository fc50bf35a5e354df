import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { loadConfig } from '../../src/config';
import { servicesFromConfig } from '../../src/worker/processors/stripe-event';
import { startRedis, type TestRedis } from '../support/redis';

describe('the services a sandboxed stripe-events handler gets', () => {
  let server: TestRedis;

  beforeAll(async () => {
    server = await startRedis({ appendOnly: false });
  });
  afterAll(async () => {
    await server.destroy();
  });

  it('deleteAccountSecrets waits for the Secret Store connection it just made instead of failing the job', async () => {
    const prefix = `test-${randomUUID()}`;
    const config = loadConfig({ NODE_ENV: 'test', REDIS_URL: server.url, QUEUE_PREFIX: prefix, STRIPE_SECRET_KEY: 'sk_test_services0001' });
    // An account that installed nothing: the store reads Redis first (and would call Stripe for each user).
    const services = servicesFromConfig(config, pino({ level: 'silent' }));
    try {
      expect(await services.deleteAccountSecrets('acct_1NoUsers')).toEqual({ users: 0, accountGone: false });
    } finally {
      await services.close();
    }
  });
});
