import { Redis, type RedisOptions } from 'ioredis';
import type { Config } from './config';

/**
 * What the connection is for decides how it behaves while Redis is away:
 * - `producer` (web): fail fast, so a request answers 503 instead of hanging on an offline queue.
 * - `worker` (BullMQ Worker/QueueEvents): block and retry for ever; BullMQ requires maxRetriesPerRequest null.
 * - `processor` (a sandboxed processor's own connection): like `worker`, with auto-pipelining.
 */
export type ConnectionRole = 'producer' | 'worker' | 'processor';

/** The URL, plus the AUTH token when it is kept out of the URL (REDIS_PASSWORD). */
export type RedisConnectionConfig = Pick<Config, 'REDIS_URL'> & Partial<Pick<Config, 'REDIS_PASSWORD'>>;

export function redisOptions(config: RedisConnectionConfig, role: ConnectionRole): RedisOptions {
  const url = new URL(config.REDIS_URL);
  const options: RedisOptions = {
    host: url.hostname,
    port: url.port ? Number(url.port) : 6379,
    db: url.pathname.length > 1 ? Number(url.pathname.slice(1)) : 0,
    connectionName: `hooklane-${role}`,
    // Reconnect quickly at first, then every 2 s at most, for ever: Redis restarts and ElastiCache failovers heal.
    retryStrategy: (attempt) => Math.min(50 * 2 ** attempt, 2000),
    // ElastiCache failover turns the old primary into a replica; reconnect rather than write to it.
    reconnectOnError: (err) => err.message.startsWith('READONLY'),
    connectTimeout: 5000,
    keepAlive: 10_000,
  };
  if (url.username) options.username = decodeURIComponent(url.username);
  if (url.password) options.password = decodeURIComponent(url.password);
  else if (config.REDIS_PASSWORD) options.password = config.REDIS_PASSWORD;
  // ElastiCache in-transit encryption: rediss:// and the server name for SNI.
  if (url.protocol === 'rediss:') options.tls = { servername: url.hostname };
  if (role === 'producer') {
    options.maxRetriesPerRequest = 1;
    options.enableOfflineQueue = false;
    // No auto-pipelining: its Pipeline and promises per batch cost the web more CPU than the socket writes
    // they saved; the webhook hot path batches its writes with coalesceWritesThisTurn instead.
  } else {
    options.maxRetriesPerRequest = null;
    options.enableOfflineQueue = true;
    // A processor's own writes (event index bookkeeping) from concurrent jobs share round trips.
    // Not for BullMQ's connections, which manage their own command flow.
    if (role === 'processor') options.enableAutoPipelining = true;
  }
  return options;
}

/**
 * Holds the connection's socket writes until the end of this event-loop turn, so the commands of every
 * request handled in the same turn leave in one writev instead of one write each. On loopback a socket
 * write costs as much as the command's whole JavaScript side; this took the webhook fast path from
 * ~54 to ~48 µs of web CPU per delivery (docs/numbers.md). The commands and their order are unchanged.
 */
export function coalesceWritesThisTurn(redis: Redis): void {
  const socket = redis.stream as Redis['stream'] | undefined;
  if (!socket || socket.writableCorked > 0 || socket.destroyed) return;
  socket.cork();
  setImmediate(() => socket.uncork());
}

/** The only place Redis connections are made. */
export function createRedis(config: RedisConnectionConfig, role: ConnectionRole): Redis {
  return new Redis(redisOptions(config, role));
}

/**
 * Memoises `make` per connection: for objects that define Lua scripts on the connection they are given,
 * which must happen once per connection.
 */
export function onePerConnection<T, C>(make: (redis: Redis, config: C) => T): (redis: Redis, config: C) => T {
  const made = new WeakMap<Redis, T>();
  return (redis, config) => {
    let value = made.get(redis);
    if (!value) {
      value = make(redis, config);
      made.set(redis, value);
    }
    return value;
  };
}

export class EvictionPolicyError extends Error {
  constructor(readonly policy: string) {
    super(
      `Redis maxmemory-policy is "${policy}"; hooklane requires "noeviction" because BullMQ silently loses jobs ` +
        'when Redis evicts keys. Set it with `CONFIG SET maxmemory-policy noeviction` or, on ElastiCache, in the ' +
        'parameter group.',
    );
    this.name = 'EvictionPolicyError';
  }
}

/** Reads maxmemory-policy through INFO, which ElastiCache allows (it disables CONFIG). */
export async function readRedisMemoryInfo(redis: Redis): Promise<{ policy: string; usedBytes: number; maxBytes: number }> {
  const info = await redis.info('memory');
  const field = (name: string) => new RegExp(`^${name}:(.*)$`, 'm').exec(info)?.[1]?.trim() ?? '';
  return {
    policy: field('maxmemory_policy'),
    usedBytes: Number(field('used_memory')) || 0,
    maxBytes: Number(field('maxmemory')) || 0,
  };
}

export async function assertNoEviction(redis: Redis): Promise<void> {
  const { policy } = await readRedisMemoryInfo(redis);
  if (policy !== 'noeviction') throw new EvictionPolicyError(policy || 'unknown');
}

/** Resolves when the connection is ready, rejects after `timeoutMs`. */
export async function waitForRedis(redis: Redis, timeoutMs: number): Promise<void> {
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`Redis was not ready within ${timeoutMs} ms (status ${redis.status})`));
    }, timeoutMs);
    const onReady = () => {
      cleanup();
      resolve();
    };
    const cleanup = () => {
      clearTimeout(timer);
      redis.off('ready', onReady);
    };
    redis.on('ready', onReady);
  });
}

/** PING with a deadline; never hangs longer than `timeoutMs`. */
export async function pingWithin(redis: Redis, timeoutMs: number): Promise<boolean> {
  if (redis.status !== 'ready') return false;
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    return await Promise.race([redis.ping().then((r) => r === 'PONG'), timeout]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}
