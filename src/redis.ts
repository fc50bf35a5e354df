import { Redis, type RedisOptions } from 'ioredis';
import type { Config } from './config';
import type { Logger } from './logger';

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

const replicaWaits = new WeakMap<Redis, Promise<number>>();

/**
 * Redis WAIT: resolves to how many replicas acknowledged every write this connection made before it.
 * One WAIT per connection and event-loop turn, shared by every caller of the turn: it is sent once the turn
 * is over (after the writes of every request answered in it) and covers them all. WAIT holds up the
 * connection's later commands until it returns, so sharing it keeps that to one wait per turn.
 */
export function waitForReplicasThisTurn(redis: Redis, replicas: number, timeoutMs: number): Promise<number> {
  let wait = replicaWaits.get(redis);
  if (!wait) {
    wait = new Promise<number>((resolve, reject) => {
      setImmediate(() => {
        replicaWaits.delete(redis);
        redis.wait(replicas, timeoutMs).then(resolve, reject);
      });
    });
    replicaWaits.set(redis, wait);
  }
  return wait;
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

/** REDIS_URL as it may be shown in logs and errors: without its password. */
export function shownRedisUrl(redisUrl: string): string {
  try {
    const url = new URL(redisUrl);
    url.password = '';
    return url.toString().replace(/\/$/, '');
  } catch {
    return '(REDIS_URL is not a URL)';
  }
}

/**
 * Logs a connection's errors without flooding the log: the first error of each outage at warn, then
 * nothing until it is back (ioredis reports every reconnection attempt). Before the connection was ever
 * ready it stays quiet: {@link waitForRedis} then says once what to check.
 */
export function logRedisErrors(redis: Redis, logger: Logger, message = 'redis connection error'): void {
  let everReady = redis.status === 'ready';
  let failing = false;
  redis.on('ready', () => {
    if (failing) logger.info('redis connection restored');
    everReady = true;
    failing = false;
  });
  redis.on('error', (err) => {
    if (!everReady || failing) return;
    failing = true;
    logger.warn({ err: err.message }, message);
  });
}

export interface BootWaitReport {
  /** REDIS_URL; only its password-less form is shown. */
  redisUrl: string;
  logger: Logger;
}

/**
 * Resolves when the connection is ready, rejects after `timeoutMs`. With `report`, a failing connection is
 * logged once (which Redis, retrying until when) and the rejection says what to check.
 */
export async function waitForRedis(redis: Redis, timeoutMs: number, report?: BootWaitReport): Promise<void> {
  if (redis.status === 'ready') return;
  const shown = report ? shownRedisUrl(report.redisUrl) : 'Redis';
  let lastError: string | undefined;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      const why = lastError ? `last error: ${lastError}` : `status ${redis.status}`;
      reject(
        new Error(
          `Redis at ${shown} did not answer within ${timeoutMs} ms (${why}). Check that Redis runs at that address ` +
            '(npm start runs its own when REDIS_URL is unset), that REDIS_URL and REDIS_PASSWORD are right, and on AWS ' +
            'that the security group lets this instance in and the URL is rediss:// when in-transit encryption is on.',
        ),
      );
    }, timeoutMs);
    const onReady = () => {
      cleanup();
      resolve();
    };
    const onError = (err: Error) => {
      if (lastError === undefined) {
        report?.logger.warn(
          { redis: shown, err: err.message },
          `cannot reach Redis yet; retrying for up to ${Math.round(timeoutMs / 1000)} s (REDIS_BOOT_TIMEOUT_MS)`,
        );
      }
      lastError = err.message;
    };
    const cleanup = () => {
      clearTimeout(timer);
      redis.off('ready', onReady);
      redis.off('error', onError);
    };
    redis.on('ready', onReady);
    redis.on('error', onError);
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
