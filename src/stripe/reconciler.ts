import type { Redis } from 'ioredis';
import type Stripe from 'stripe';
import type { IntakeLog } from '../events/intake-log';
import type { Logger } from '../logger';

/** What one run did; the last one is kept for the console and `GET /api/admin/reconcile`. */
export interface ReconcileRun {
  startedAt: string;
  finishedAt: string;
  /** Unix seconds the listing started from (the watermark minus the overlap, or the `since` asked for). */
  since: number;
  /** Events Stripe listed (both listings). */
  listed: number;
  /** Of those, the ones hooklane did not know: fed through the intake, marked `reconciled`. */
  recovered: number;
  errors: number;
  error: string | null;
  trigger: 'scheduled' | 'on-demand';
}

export interface ReconcilerDeps {
  /** Lists one page of `GET /v1/events` through the shared budget (StripeFetcher.listEvents). */
  listEvents(params: Stripe.EventListParams & { delivery_success?: boolean }): Promise<Stripe.ApiList<Stripe.Event>>;
  intake: Pick<IntakeLog, 'appendReconciled'>;
  redis: Redis;
  keyPrefix: string;
  logger: Logger;
}

// Events are listed by `created` (whole seconds) and may become listable a little after they were
// created: each run looks this far behind the watermark, and the intake's dedup drops what was seen.
export const OVERLAP_SECONDS = 300;
// A first run (no watermark yet) looks back as far as Stripe retries a delivery.
export const FIRST_RUN_LOOKBACK_SECONDS = 3 * 86_400;
// Stripe lists 30 days of events; failed deliveries beyond that cannot be listed.
const UNDELIVERED_LOOKBACK_SECONDS = 30 * 86_400;
const PAGE_SIZE = 100;
// Bounds one run: 2,000 pages of 100 (200,000 events) per listing, then the rest waits for the next run.
const MAX_PAGES = 2000;

export const reconcileKeys = (prefix: string) => {
  const base = `${prefix}:{reconcile}`;
  return { watermark: `${base}:watermark`, lastRun: `${base}:last-run`, lock: `${base}:lock` };
};

/**
 * Recovers events Stripe generated and hooklane never accepted, as Stripe advises: lists its events since
 * a stored watermark (minus an overlap) and those whose delivery failed (`delivery_success=false`), and
 * feeds each through the same dedup intake as a webhook, marked `reconciled`. The watermark moves only
 * after both listings finished, so a failed run repeats its window; the intake makes repeats harmless.
 */
export class Reconciler {
  constructor(private readonly deps: ReconcilerDeps) {}

  async run(options: { since?: number; trigger?: ReconcileRun['trigger']; nowMs?: number } = {}): Promise<ReconcileRun> {
    const keys = reconcileKeys(this.deps.keyPrefix);
    const nowMs = options.nowMs ?? Date.now();
    const nowSeconds = Math.floor(nowMs / 1000);
    const stored = await this.deps.redis.get(keys.watermark);
    const since = options.since ?? (stored ? Number(stored) - OVERLAP_SECONDS : nowSeconds - FIRST_RUN_LOOKBACK_SECONDS);
    const run: ReconcileRun = {
      startedAt: new Date(nowMs).toISOString(),
      finishedAt: '',
      since,
      listed: 0,
      recovered: 0,
      errors: 0,
      error: null,
      trigger: options.trigger ?? 'scheduled',
    };
    try {
      const recent = await this.feed({ created: { gte: since } }, run);
      await this.feed({ delivery_success: false, created: { gte: nowSeconds - UNDELIVERED_LOOKBACK_SECONDS } }, run);
      // Only forward, only after success, and only when the listing was read to its end (it is newest
      // first: a listing cut at its page bound has not seen the oldest events of its window yet).
      const newest = recent.complete ? Math.max(recent.newest, since) : undefined;
      if (newest !== undefined && (!stored || newest > Number(stored))) await this.deps.redis.set(keys.watermark, String(newest));
    } catch (err) {
      run.errors += 1;
      run.error = err instanceof Error ? err.message : String(err);
      this.deps.logger.warn({ err: run.error, listed: run.listed, recovered: run.recovered }, 'reconciliation failed; the watermark stays, the next run repeats the window');
    }
    run.finishedAt = new Date().toISOString();
    await this.deps.redis.set(keys.lastRun, JSON.stringify(run));
    if (!run.error) this.deps.logger.info({ listed: run.listed, recovered: run.recovered, since }, 'reconciliation done');
    if (run.error) throw Object.assign(new Error(`reconciliation failed: ${run.error}`), { run });
    return run;
  }

  /** Lists every page of one listing and feeds each event to the intake: the newest `created` seen, and whether it read to the end. */
  private async feed(params: Stripe.EventListParams & { delivery_success?: boolean }, run: ReconcileRun): Promise<{ newest: number; complete: boolean }> {
    let newest = 0;
    let after: string | undefined;
    for (let page = 0; page < MAX_PAGES; page += 1) {
      const list = await this.deps.listEvents({ ...params, limit: PAGE_SIZE, ...(after ? { starting_after: after } : {}) });
      // One page's appends go out together (one connection, pipelined by Redis's ordering).
      const appended = await Promise.all(list.data.map((event) => this.deps.intake.appendReconciled(event.id, JSON.stringify(event), Date.now(), typeof event.created === 'number' ? event.created : null)));
      run.listed += list.data.length;
      run.recovered += appended.filter(Boolean).length;
      for (const event of list.data) newest = Math.max(newest, event.created);
      if (!list.has_more || list.data.length === 0) return { newest, complete: true };
      after = list.data[list.data.length - 1]!.id;
    }
    this.deps.logger.warn({ pages: MAX_PAGES }, 'reconciliation stopped at its page bound; the next run continues');
    return { newest, complete: false };
  }
}

export async function lastReconcileRun(redis: Redis, keyPrefix: string): Promise<ReconcileRun | null> {
  const raw = await redis.get(reconcileKeys(keyPrefix).lastRun);
  return raw ? (JSON.parse(raw) as ReconcileRun) : null;
}
