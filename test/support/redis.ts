import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startEmbeddedRedis, type EmbeddedRedis } from '../../src/dev/embedded-redis';

export interface TestRedis {
  url: string;
  port: number;
  /** Stops the server (AOF is flushed) and keeps its data directory. */
  stop(): Promise<void>;
  /** Starts it again on the same port and data directory: what an outage looks like to clients. */
  start(): Promise<void>;
  /** Stops it and removes its data. */
  destroy(): Promise<void>;
}

/** A real redis-server on a free loopback port, with its own data directory. */
export async function startRedis(options: { appendOnly?: boolean; extraArgs?: string[] } = {}): Promise<TestRedis> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'hooklane-redis-'));
  let server: EmbeddedRedis | undefined = await startEmbeddedRedis({ dataDir, ...options });
  const port = server.port;
  return {
    url: server.url,
    port,
    stop: async () => {
      await server?.stop();
      server = undefined;
    },
    start: async () => {
      server = await startEmbeddedRedis({ dataDir, port, ...options });
    },
    destroy: async () => {
      await server?.stop();
      server = undefined;
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
