/**
 * Which errors mean "Redis cannot take this request now" (an outage: the client should retry later) as
 * opposed to a bug (WRONGTYPE, a RangeError, a script error), which must surface as a 500 and an error
 * log line instead of hiding behind a 503 that looks like routine Redis trouble.
 */

// Socket-level failures ioredis passes on (with enableOfflineQueue false most surface as the messages below).
const CONNECTION_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN',
]);

// What ioredis rejects a command with when there is no usable connection, or it gave up retrying.
const CONNECTION_MESSAGES = [
  /^Connection is closed\.?$/,
  /^Stream isn't writeable/,
  /^Reached the max retries per request limit/,
  /^Command timed out/,
  /^Socket closed unexpectedly/,
];

/*
 * Redis replies that say "not now" rather than "wrong": OOM (maxmemory with noeviction: the "Redis full"
 * incident), and the states a failover or a restart passes through (LOADING the dataset, READONLY
 * replica not yet promoted, MASTERDOWN, a BUSY script, cluster TRYAGAIN/CLUSTERDOWN, NOREPLICAS for
 * min-replicas-to-write). Redis 7 keeps the reply's own prefix when a script's call fails; Redis 6 wraps
 * it ("ERR Error running script ... -OOM ..."), hence the match after a dash too.
 */
const UNAVAILABLE_REPLY = /(?:^|-)(?:OOM|LOADING|READONLY|MASTERDOWN|BUSY|TRYAGAIN|CLUSTERDOWN|NOREPLICAS) /;

export function isRedisUnavailableError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as NodeJS.ErrnoException).code;
  if (code !== undefined && CONNECTION_CODES.has(code)) return true;
  if (err.name === 'MaxRetriesPerRequestError') return true;
  return CONNECTION_MESSAGES.some((pattern) => pattern.test(err.message)) || UNAVAILABLE_REPLY.test(err.message);
}
