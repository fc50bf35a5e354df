import { Agent, request } from 'node:http';
import { signedEvents, type EventMaker } from './signed-events';

export interface Outcome {
  id: string;
  /** HTTP status; 0 when the request failed without an answer. */
  status: number;
  error?: string;
  duplicate?: boolean;
  /** For answers other than 2xx: the problem code, or who answered (HAProxy answers in HTML). */
  code?: string;
  /** ms since the load started. */
  at: number;
  ms: number;
}

export interface LoadOptions {
  /** The front URL; loopback only. */
  url: string;
  rate: number;
  maxRequests: number;
  maxDurationMs: number;
  secret: string;
  prefix: string;
  type?: string;
  object?: string;
  /** Requests in flight at most; beyond it the generator waits (bounded memory and sockets). */
  maxInFlight?: number;
  /** Other bodies than snapshot events of `type` (thin notifications); `secret`, `type` and `object` then go unused. */
  make?: EventMaker;
}

/** POSTs one signed body; resolves with the outcome, never rejects. */
export function deliver(agent: Agent, url: URL, body: string, signature: string, timeoutMs = 15_000, retry = true): Promise<Omit<Outcome, 'id' | 'at'>> {
  const started = performance.now();
  return new Promise((resolve) => {
    const req = request(
      { agent, host: url.hostname, port: url.port, method: 'POST', path: '/webhooks/stripe', timeout: timeoutMs, headers: { 'content-type': 'application/json', 'stripe-signature': signature, 'content-length': Buffer.byteLength(body) } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          let parsed: { duplicate?: boolean; code?: string } = {};
          try {
            parsed = JSON.parse(text) as typeof parsed;
          } catch {
            parsed = { code: text.includes('<html>') ? 'haproxy' : 'not-json' };
          }
          const { duplicate, code } = parsed;
          resolve({ status: res.statusCode ?? 0, ...(duplicate === undefined ? {} : { duplicate }), ...(code ? { code } : {}), ms: performance.now() - started });
        });
        res.on('error', (err) => resolve({ status: 0, error: err.message, ms: performance.now() - started }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err: NodeJS.ErrnoException) => {
      // A kept-alive connection the server closed just as it was reused: retry once on a fresh one, as
      // Node's documentation advises (and every HTTP client that Stripe or an ALB runs does).
      if (req.reusedSocket && (err.code === 'ECONNRESET' || err.code === 'EPIPE') && retry) {
        resolve(deliver(agent, url, body, signature, timeoutMs, false));
        return;
      }
      resolve({ status: 0, error: err.code ?? err.message, ms: performance.now() - started });
    });
    req.end(body);
  });
}

/**
 * A paced (open-loop) load of unique, correctly signed events at `rate` per second, evenly spaced, bounded
 * by count, time and requests in flight: the benchmark's end-to-end scenario and the fault suite's steady
 * load. Loopback only: it refuses any other host.
 */
export class SteadyLoad {
  readonly outcomes: Outcome[] = [];
  readonly done: Promise<Outcome[]>;
  #stopped = false;
  #sent = 0;

  constructor(private readonly options: LoadOptions) {
    const url = new URL(options.url);
    if (!['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)) throw new Error(`load goes to loopback only, not ${url.hostname}`);
    this.done = this.#run(url);
  }

  #start = performance.now();

  get sent(): number {
    return this.#sent;
  }

  /** ms since the load started: the clock of every outcome's `at`. */
  get elapsedMs(): number {
    return performance.now() - this.#start;
  }

  /** Stops sending; `done` resolves once the requests in flight have answered. */
  stop(): Promise<Outcome[]> {
    this.#stopped = true;
    return this.done;
  }

  async #run(url: URL): Promise<Outcome[]> {
    const { rate, maxRequests, maxDurationMs, maxInFlight = 200 } = this.options;
    const agent = new Agent({ keepAlive: true, maxSockets: 64 });
    this.#start = performance.now();
    const start = this.#start;
    const inFlight = new Set<Promise<void>>();
    let batch = signedEvents(0, { prefix: 'x' });
    let next = 0;
    while (!this.#stopped && this.#sent < maxRequests && performance.now() - start < maxDurationMs) {
      const due = Math.min(maxRequests, Math.floor(((performance.now() - start) / 1000) * rate) + 1);
      while (this.#sent < due && inFlight.size < maxInFlight) {
        if (next >= batch.length) {
          const count = Math.max(50, Math.ceil(rate / 10));
          const prefix = `${this.options.prefix}${this.#sent.toString(36)}`;
          batch = this.options.make
            ? this.options.make(count, prefix)
            : // One object per event, as new customers' customer.created are: per-object ordering runs them side by side.
              signedEvents(count, { prefix, type: this.options.type ?? 'customer.created', object: this.options.object ?? 'customer', secret: this.options.secret, objectPerEvent: true });
          next = 0;
        }
        const event = batch[next++]!;
        const at = performance.now() - start;
        this.#sent += 1;
        const p = deliver(agent, url, event.body, event.signature).then((o) => {
          this.outcomes.push({ id: event.id, at, ...o });
          inFlight.delete(p);
        });
        inFlight.add(p);
      }
      // Sleep until the next request is due (at least the timer's 1 ms): the requests go out evenly spaced,
      // not in bursts (autocannon's overallRate is a per-second budget each connection spends at once).
      const nextDueMs = (this.#sent * 1000) / rate;
      await new Promise((resolve) => setTimeout(resolve, Math.max(1, nextDueMs - (performance.now() - start))));
    }
    await Promise.all(inFlight);
    agent.destroy();
    return this.outcomes;
  }
}

export interface LoadSummary {
  sent: number;
  byStatus: Record<string, number>;
  /** Non-2xx answers by status and code, e.g. "503 REDIS_UNAVAILABLE", "503 haproxy". */
  byCode: Record<string, number>;
  errors: Record<string, number>;
  accepted: string[];
  failed: number;
  duplicatesAnswered: number;
}

export function summarise(outcomes: Outcome[]): LoadSummary {
  const byStatus: Record<string, number> = {};
  const byCode: Record<string, number> = {};
  const errors: Record<string, number> = {};
  for (const o of outcomes) {
    byStatus[o.status] = (byStatus[o.status] ?? 0) + 1;
    if (o.code) byCode[`${o.status} ${o.code}`] = (byCode[`${o.status} ${o.code}`] ?? 0) + 1;
    if (o.error) errors[o.error] = (errors[o.error] ?? 0) + 1;
  }
  const accepted = outcomes.filter((o) => o.status >= 200 && o.status < 300).map((o) => o.id);
  return {
    sent: outcomes.length,
    byStatus,
    byCode,
    errors,
    accepted,
    failed: outcomes.length - accepted.length,
    duplicatesAnswered: outcomes.filter((o) => o.duplicate === true).length,
  };
}
