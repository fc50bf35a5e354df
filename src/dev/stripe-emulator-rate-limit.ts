import { rateLimited } from './stripe-emulator-errors';

/**
 * Stripe's request-rate limiter, per second over a sliding window: a request that would make more than
 * `perSecond` in the last 1000 ms is answered 429 and not served. Counts what it served and refused and
 * the most it served in any one window, so a load test can show nothing went over the limit.
 */
export class RateLimitEmulation {
  private served: number[] = [];
  private head = 0;
  /** Requests served (not 429). */
  admitted = 0;
  /** Requests answered 429. */
  refused = 0;
  /** The most requests served within any 1000 ms. */
  peakPerSecond = 0;
  /** When the first and the last served request came (performance.now() ms). */
  firstAt = 0;
  lastAt = 0;

  constructor(public perSecond: number | undefined) {}

  /** Throws Stripe's 429 when the request is over the limit; else counts it as served. */
  admit(now = performance.now()): void {
    while (this.head < this.served.length && this.served[this.head]! <= now - 1000) this.head += 1;
    if (this.head > 4096) {
      this.served = this.served.slice(this.head);
      this.head = 0;
    }
    const inWindow = this.served.length - this.head;
    if (this.perSecond !== undefined && inWindow >= this.perSecond) {
      this.refused += 1;
      throw rateLimited();
    }
    this.served.push(now);
    if (this.admitted === 0) this.firstAt = now;
    this.lastAt = now;
    this.admitted += 1;
    this.peakPerSecond = Math.max(this.peakPerSecond, inWindow + 1);
  }

  reset(): void {
    this.served = [];
    this.head = 0;
    this.admitted = 0;
    this.refused = 0;
    this.peakPerSecond = 0;
    this.firstAt = 0;
    this.lastAt = 0;
  }
}
