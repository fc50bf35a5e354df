import { hostname } from 'node:os';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type Stripe from 'stripe';
import type { Config } from '../config';
import { eventIndexFor, type EventIndex } from '../events/event-index';
import { summariseEvent, type EventSummary } from '../events/event-record';
import { IntakeLog, type IntakeEntry } from '../events/intake-log';
import type { Logger } from '../logger';
import type { ThinNotification } from '../stripe/stripe-fetcher';
import { QUEUE_NAMES, queueOptions } from '../queues';
import { createRedis } from '../redis';

export interface IntakeMoverOptions {
  /** Entries moved per round trip at most. */
  batch: number;
  /** How long one read waits for new entries; also how long stop() may wait for the loop. */
  blockMs: number;
  /** An entry another mover read and has not finished with for this long is taken over. */
  claimIdleMs: number;
  /** How often stale entries are looked for. */
  claimEveryMs: number;
  /** Pause after a failed round (Redis away), before trying again. */
  retryMs: number;
}

const DEFAULTS: IntakeMoverOptions = { batch: 200, blockMs: 1000, claimIdleMs: 10_000, claimEveryMs: 5000, retryMs: 1000 };

export interface IntakeMoverDeps {
  /** For the blocking reads: a connection of its own (a blocked connection runs nothing else). */
  reader: IntakeLog;
  /** For everything else, on the worker's connection. */
  log: IntakeLog;
  index: Pick<EventIndex, 'record'>;
  queue: Pick<Queue, 'addBulk'>;
  logger: Logger;
  /** This mover's name in the consumer group; unique per process. */
  consumer?: string;
}

/** What becomes the job: a snapshot event, or a thin notification the processor fetches the event for. */
interface MovedEvent {
  entry: IntakeEntry;
  /** The job's data: the event, or the notification (`object: 'v2.core.event'`). */
  data: Record<string, unknown>;
  summary: EventSummary;
}

function parseEvent(entry: IntakeEntry): MovedEvent | undefined {
  try {
    const body = JSON.parse(entry.body) as Record<string, unknown> | null;
    if (!body || typeof body.type !== 'string') return undefined;
    if (entry.source === 'thin') return body.id === entry.thinId ? { entry, data: body, summary: summariseThin(entry, body as unknown as ThinNotification) } : undefined;
    if (body.id !== entry.eventId) return undefined;
    const event = body as unknown as Stripe.Event;
    return { entry, data: body, summary: { ...summariseEvent(event), source: entry.source } };
  } catch {
    // Falls through: reported by the caller.
  }
  return undefined;
}

/**
 * A thin notification indexed under its key: a `v1.*` one as the snapshot event it stands for (id and
 * type of the snapshot, so filters and the migration see one event), a v2 one as itself.
 */
function summariseThin(entry: IntakeEntry, notification: ThinNotification): EventSummary {
  const created = Date.parse(notification.created);
  const isSnapshotKey = entry.eventId === notification.snapshot_event;
  return {
    id: entry.eventId,
    type: isSnapshotKey ? notification.type.replace(/^v1\./, '') : notification.type,
    account: typeof notification.context === 'string' && notification.context.startsWith('acct_') ? notification.context : null,
    objectId: notification.related_object?.id ?? null,
    created: Number.isFinite(created) ? Math.floor(created / 1000) : null,
    source: 'thin',
    thinEventId: notification.id,
  };
}

/**
 * Moves verified Stripe events from the intake log into the stripe-events queue and the event index, in
 * batches, in every worker process: each entry becomes a job (jobId = event id, BullMQ ignores an id it
 * has) and then its index record (SET-NX), and only then leaves the log. A mover that dies mid-batch
 * leaves its entries pending; another (or its successor) takes them over after `claimIdleMs` and repeats
 * the same idempotent steps, so an accepted event is moved at least once and queued exactly once.
 */
export class IntakeMover {
  private readonly options: IntakeMoverOptions;
  private readonly consumer: string;
  private stopping = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private failing = false;

  constructor(
    private readonly deps: IntakeMoverDeps,
    options: Partial<IntakeMoverOptions> = {},
  ) {
    this.options = { ...DEFAULTS, ...options };
    this.consumer = deps.consumer ?? `${hostname()}-${process.pid}`;
  }

  /** Starts the loop; it runs until stop(), riding out Redis outages. */
  start(): void {
    this.loop ??= this.run();
  }

  /** Finishes the batch in hand (at most one read's wait) and stops. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.loop;
  }

  /**
   * One pass without waiting: takes over stale entries, then moves new ones until none is left. Resolves
   * to the number of entries moved. The loop's step, and what tests call to move deterministically.
   */
  async moveAvailable(claimIdleMs = this.options.claimIdleMs): Promise<number> {
    await this.deps.log.ensureGroup();
    let moved = 0;
    for (;;) {
      const stale = await this.deps.log.claimStale(this.consumer, claimIdleMs, this.options.batch);
      if (stale.length === 0) break;
      moved += await this.move(stale);
    }
    for (;;) {
      const entries = await this.deps.log.read(this.consumer, this.options.batch, 0);
      if (entries.length === 0) return moved;
      moved += await this.move(entries);
    }
  }

  private async run(): Promise<void> {
    let nextClaim = 0;
    let groupReady = false;
    while (!this.stopping) {
      try {
        if (!groupReady) {
          await this.deps.log.ensureGroup();
          await this.deps.log.pruneConsumers(3_600_000);
          groupReady = true;
        }
        if (Date.now() >= nextClaim) {
          nextClaim = Date.now() + this.options.claimEveryMs;
          const stale = await this.deps.log.claimStale(this.consumer, this.options.claimIdleMs, this.options.batch);
          if (stale.length) await this.move(stale);
        }
        const entries = await this.deps.reader.read(this.consumer, this.options.batch, this.options.blockMs);
        if (entries.length) await this.move(entries);
        if (this.failing) this.deps.logger.info('intake mover is moving again');
        this.failing = false;
      } catch (err) {
        const message = (err as Error).message;
        // The group is gone (Redis lost its data, or a FLUSHALL): make it again, from the start of the log.
        if (message.startsWith('NOGROUP')) groupReady = false;
        if (!this.failing) this.deps.logger.warn({ err: message }, 'intake mover cannot reach the log; retrying');
        this.failing = true;
        await this.pause(this.options.retryMs);
      }
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /** Job first, then the record, then the entry leaves the log: each step idempotent, so a repeat is safe. */
  private async move(entries: IntakeEntry[]): Promise<number> {
    const events: MovedEvent[] = [];
    for (const entry of entries) {
      const event = parseEvent(entry);
      // The web stored only verified events, so this is corruption; it is logged with its id, not retried for ever.
      if (event) events.push(event);
      else this.deps.logger.error({ entryId: entry.entryId, eventId: entry.eventId }, 'intake entry is not the Stripe event it names; dropped');
    }
    if (events.length) {
      await this.deps.queue.addBulk(events.map(({ data, summary }) => ({ name: String(data.type), data, opts: { jobId: summary.id } })));
      await Promise.all(events.map(({ entry, summary }) => this.deps.index.record(summary, entry.body, entry.receivedAt)));
    }
    await this.deps.log.done(entries);
    return events.length;
  }
}

/**
 * A running mover as a worker process has it: blocking reads on a connection of its own, everything else
 * on `connection`. `stop()` ends the loop (finishing the batch in hand) and closes what it opened.
 */
export function startIntakeMover(config: Config, connection: Redis, logger: Logger): { stop(): Promise<void> } {
  const reader = createRedis(config, 'worker');
  reader.on('error', (err) => logger.warn({ err: err.message }, 'redis connection error (intake reader)'));
  const queue = new Queue(QUEUE_NAMES.stripeEvents, queueOptions(config, connection));
  const mover = new IntakeMover({
    reader: new IntakeLog(reader, config),
    log: new IntakeLog(connection, config),
    index: eventIndexFor(connection, config),
    queue,
    logger,
  });
  mover.start();
  return {
    stop: async () => {
      await mover.stop();
      await queue.close();
      await reader.quit();
    },
  };
}
