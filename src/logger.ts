import { isMainThread } from 'node:worker_threads';
import pino, { type Logger } from 'pino';

/*
 * No AsyncLocalStorage log context, in any process: once a process uses one, a hook runs for every promise
 * it makes (BullMQ's and ioredis's included), which cost the webhook fast path a tenth of its CPU and the
 * in-process worker more. Lines name their ids themselves: `req.log` and bindRequestLog in the web, child
 * loggers bound to a job's ids in the worker.
 */

// Anything that can carry a secret or a signature. pino replaces these paths before serialising.
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["stripe-signature"]',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  '*.password',
  '*.token',
  '*.accessToken',
  '*.access_token',
  '*.refresh_token',
  '*.client_secret',
  '*.secret',
  'config.ADMIN_TOKEN',
  'config.STRIPE_SECRET_KEY',
  'config.STRIPE_WEBHOOK_SECRET',
  'config.STRIPE_APP_SECRET',
  'config.OAUTH_CLIENT_SECRET',
  'config.REDIS_URL',
  'config.REDIS_PASSWORD',
];

/** A process's main thread gathers log lines up to this many bytes, or this long, before writing them. */
const LOG_BUFFER = { bytes: 4096, ms: 250 } as const;

/**
 * stdout, written synchronously (pino's default). On the main thread lines are gathered into one write per
 * LOG_BUFFER.bytes (about 15 request lines) or LOG_BUFFER.ms, whichever comes first: a write per line cost the
 * webhook fast path about 4 µs per delivery (an asynchronous write is a thread-pool round trip). Memory stays
 * bounded either way: a stalled stdout slows the process down rather than growing a queue of lines. What is
 * gathered is written when the process exits (a SIGKILL loses it: at most LOG_BUFFER of lines). Worker threads
 * write each line at once (they have no exit hook).
 */
let mainThreadStdout: pino.DestinationStream | undefined;
function stdout(): pino.DestinationStream {
  if (!isMainThread) return pino.destination({ dest: 1, sync: true });
  // One buffer per process, so lines from several loggers keep their order.
  if (!mainThreadStdout) {
    const destination = pino.destination({ dest: 1, sync: true, minLength: LOG_BUFFER.bytes, periodicFlush: LOG_BUFFER.ms });
    process.once('exit', () => destination.flushSync());
    mainThreadStdout = destination;
  }
  return mainThreadStdout;
}

let lastMs = -1;
let lastTime = '';
/**
 * pino's isoTime, made once per millisecond: a busy web writes dozens of lines in one, and formatting a Date
 * for each was about 1 % of the webhook fast path's CPU.
 */
export function isoTimeOncePerMs(): string {
  const now = Date.now();
  if (now !== lastMs) {
    lastMs = now;
    lastTime = `,"time":"${new Date(now).toISOString()}"`;
  }
  return lastTime;
}

export function createLogger(options: { level: string; name: string }, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      name: options.name,
      level: options.level,
      base: { pid: process.pid, proc: options.name },
      timestamp: isoTimeOncePerMs,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
    },
    destination ?? stdout(),
  );
}

export type { Logger };
