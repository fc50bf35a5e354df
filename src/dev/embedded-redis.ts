import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { redisServerArgs } from '../redis-parameters';

export interface EmbeddedRedisOptions {
  /** Where AOF files live; created if missing. */
  dataDir: string;
  /** 0 picks a free port. */
  port?: number;
  appendOnly?: boolean;
  /** Extra `--key value` pairs for redis-server. */
  extraArgs?: string[];
  /**
   * Its own process group, so the terminal's Ctrl-C (sent to the whole foreground group) does not stop Redis
   * while the web and worker processes are still finishing their jobs; the caller stops it last (and it is
   * stopped when this process exits).
   */
  ownProcessGroup?: boolean;
}

export interface EmbeddedRedis {
  url: string;
  port: number;
  process: ChildProcess;
  /** SIGTERM and wait for exit (Redis fsyncs its AOF on the way out). */
  stop(): Promise<void>;
}

const SEARCH_PATH = ['/usr/bin', '/usr/sbin', '/usr/local/bin', '/usr/local/sbin'];

export function findRedisServer(): string | undefined {
  const onPath = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).stdout.trim();
  if (onPath) return onPath;
  return SEARCH_PATH.map((dir) => path.join(dir, 'redis-server')).find((candidate) => existsSync(candidate));
}

export async function freePort(preferred = 0): Promise<number> {
  const tryPort = (port: number) =>
    new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        const address = server.address();
        const chosen = typeof address === 'object' && address ? address.port : port;
        server.close(() => resolve(chosen));
      });
    });
  if (preferred) {
    try {
      return await tryPort(preferred);
    } catch {
      // taken: fall through to any free port
    }
  }
  return tryPort(0);
}

/**
 * Starts a loopback-only redis-server configured as production expects it: AOF on, REDIS_PARAMETERS (among them
 * maxmemory-policy noeviction (BullMQ silently loses jobs when Redis evicts keys).
 */
export async function startEmbeddedRedis(options: EmbeddedRedisOptions): Promise<EmbeddedRedis> {
  const binary = findRedisServer();
  if (!binary) {
    throw new Error('redis-server not found: install it (apt-get install redis-server) or set REDIS_URL');
  }
  mkdirSync(options.dataDir, { recursive: true });
  const port = options.port || (await freePort());
  const args = [
    '--port', String(port),
    '--bind', '127.0.0.1',
    '--protected-mode', 'yes',
    '--dir', path.resolve(options.dataDir),
    '--appendonly', options.appendOnly === false ? 'no' : 'yes',
    '--appendfsync', 'everysec',
    '--save', '',
    // noeviction and the encodings production's parameter group sets (src/redis-parameters.ts).
    ...redisServerArgs(),
    '--daemonize', 'no',
    ...(options.extraArgs ?? []),
  ];
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: options.ownProcessGroup ?? false });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  if (options.ownProcessGroup) {
    // Out of our process group nothing else stops it: it goes when we go, however we go (short of SIGKILL).
    const stopWithUs = () => child.kill('SIGTERM');
    process.once('exit', stopWithUs);
    void exited.then(() => process.off('exit', stopWithUs));
  }
  await new Promise<void>((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) {
        child.stdout?.off('data', onData);
        child.stdout?.resume();
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.resume();
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${code} before it was ready:\n${output}`)));
  });
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    process: child,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
