import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startEmbeddedRedis, type EmbeddedRedis } from '../../src/dev/embedded-redis';
import { startStripeEmulator } from '../../src/dev/stripe-emulator';

/** What a Stripe API scenario runs against: its own Redis (no AOF) and the Stripe emulator answering 429 above `limit`. */
export interface StripeBenchServices {
  redis: EmbeddedRedis;
  emulator: Awaited<ReturnType<typeof startStripeEmulator>>;
  /** The secret key the emulator accepts. */
  key: string;
  stop(): Promise<void>;
}

export async function startStripeBenchServices(name: string, limit: number): Promise<StripeBenchServices> {
  const redis = await startEmbeddedRedis({ dataDir: mkdtempSync(path.join(tmpdir(), `${name}-`)), appendOnly: false });
  const key = `sk_test_${name.replace(/[^a-z0-9]/gi, '')}01`;
  const emulator = await startStripeEmulator({ secretKey: key, rateLimitPerSecond: limit });
  return {
    redis,
    emulator,
    key,
    stop: async () => {
      await emulator.stop();
      await redis.stop();
    },
  };
}
