import { hostname } from 'node:os';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type Stripe from 'stripe';
import { parseByteSize, type Config } from '../config';
import { DEFAULT_PAYLOAD_MAX_MB, EventIndex, payloadBudgetBytes } from '../events/event-index';
import { summariseEvent, type EventSummary, type PayloadRef } from '../events/event-record';
import { IntakeLog, type IntakeEntry } from '../events/intake-log';
import type { Logger } from '../logger';
import type { ThinNotification } from '../stripe/stripe-fetcher';
import { QUEUE_NAMES, queueOptions } from '../queues';
import { createRedis, readRedisMemoryInfo } from '../redis';
import { isRedisUnavailableError } from '../redis-errors';
import { traceMove } from '../telemetry/tracing';
import { STRIPE_EVENT_HANDLERS } from './handlers';
import { AccountFairness } from './ordering/account-fairness';
import { orderedEventOf, orderedRefs, orderingBase, type ObjectOrder, type OrderedRef } from './ordering/object-order';
import { objectOrderFor } from './ordering/ordering-runtime';

export interface IntakeMoverOptions {
  /** Entries moved per round trip at most. */
  batch: number;
  /** Bytes of entries one batch holds at most (a single larger entry moves alone). */
  batchMaxBytes: number;
  /**
   * The largest an entry can be (the web's BODY_LIMIT): stale entries are claimed in counts that fit in
   * batchMaxBytes even when each is this large (XAUTOCLAIM cannot stop at a size).
   */
  entryMaxBytes: number;
  /** How long one read waits for new entries; also how long stop() may wait for the loop. */
  blockMs: number;
  /** An entry another mover read and has not finished with for this long is taken over. */
  claimIdleMs: number;
  /** How often stale entries are looked for. */
  claimEveryMs: number;
  /** Pause after a failed round (Redis away), before trying again. */
  retryMs: number;
}

const DEFAULTS: IntakeMoverOptions = {
  batch: 200,
  batchMaxBytes: 8 * 1024 * 1024,
  entryMaxBytes: 1024 * 1024,
  blockMs: 1000,
  claimIdleMs: 10_000,
  claimEveryMs: 5000,
  retryMs: 1000,
};

export interface IntakeMoverDeps {
  /** For the blocking reads: a connection of its own (a blocked connection runs nothing else). */
  reader: IntakeLog;
  /** For everything else, on the worker's connection. */
  log: IntakeLog;
  index: Pick<EventIndex, 'record' | 'setStatuses'>;
  queue: Pick<Queue, 'addBulk'>;
  logger: Logger;
  /** This mover's name in the consumer group; unique per process. */
  consumer?: string;
  /**
   * Per-object ordering: the events of handled types are put in their objects' waiting sets before their jobs
   * exist, so a worker that takes a newer event first sees the older one waiting.
   */
  ordering?: { order: Pick<ObjectOrder, 'register'>; handles(type: string): boolean };
  /** Fairness between accounts: each job's BullMQ priority. */
  fairness?: Pick<AccountFairness, 'priorities'>;
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
    return { entry, data: body, summary: { ...summariseEvent(event), source: entry.source ?? 'webhook' } };
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
 * Moves verified Stripe events from the intake log into the event index and the stripe-events queue, in
 * batches, in every worker process: each entry becomes its index record with the compressed payload (SET-NX)
 * and then a job that refers to it (jobId = event id, BullMQ ignores an id it has), and only then leaves the log. A mover that dies mid-batch
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

  /** Stale entries claimed at once: as many as fit in a batch's bytes however large each is. */
  private get claimCount(): number {
    const { batch, batchMaxBytes, entryMaxBytes } = this.options;
    return Math.max(1, Math.min(batch, Math.floor(batchMaxBytes / entryMaxBytes)));
  }

  /** New entries within the batch's count and bytes, without waiting. */
  private readWithin(log: IntakeLog): Promise<IntakeEntry[]> {
    return log.readWithin(this.consumer, this.options.batch, this.options.batchMaxBytes);
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
    let moved = await this.moveStale(claimIdleMs);
    for (;;) {
      const entries = await this.readWithin(this.deps.log);
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
          await this.moveStale(this.options.claimIdleMs);
        }
        const entries = await this.nextEntries();
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

  /**
   * Takes over and moves every entry left idle for `minIdleMs` (a dead mover's), a claim's worth at a time:
   * claims are small (they fit in the batch's bytes at BODY_LIMIT each), so one claim per check would leave
   * a dead mover's 200 entries waiting for minutes.
   */
  private async moveStale(minIdleMs: number): Promise<number> {
    let moved = 0;
    while (!this.stopping) {
      const stale = await this.deps.log.claimStale(this.consumer, minIdleMs, this.claimCount);
      if (stale.length) moved += await this.move(stale);
      if (stale.length < this.claimCount) break;
    }
    return moved;
  }

  /**
   * What is waiting, within the batch's bytes; when nothing is, waits (blocking, on the reader's own
   * connection) for one entry and takes what fits beside it.
   */
  private async nextEntries(): Promise<IntakeEntry[]> {
    const waiting = await this.readWithin(this.deps.reader);
    if (waiting.length) return waiting;
    const first = await this.deps.reader.read(this.consumer, 1, this.options.blockMs);
    if (first.length === 0) return first;
    const room = this.options.batchMaxBytes - entryBytes(first[0]!);
    if (room <= 0 || this.options.batch === 1) return first;
    return [...first, ...(await this.deps.reader.readWithin(this.consumer, this.options.batch - 1, room, true))];
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

  /** Record first, then the job, then the entry leaves the log: each step idempotent, so a repeat is safe. */
  private async move(entries: IntakeEntry[]): Promise<number> {
    const events: MovedEvent[] = [];
    for (const entry of entries) {
      const event = parseEvent(entry);
      // The web stored only verified events, so this is corruption; it is logged with its id, not retried for ever.
      if (event) events.push(event);
      else this.deps.logger.error({ entryId: entry.entryId, eventId: entry.eventId }, 'intake entry is not the Stripe event it names; dropped');
    }
    const queued = events.length ? await this.queueAll(events) : 0;
    await this.deps.log.done(entries);
    return queued;
  }

  /**
   * The record (and the payload, its only stored copy) first, then the job, which carries a reference: a
   * worker that picks the job up at once finds the payload. A repeat after a crash between the two finds the
   * record (SET-NX) and adds the job.
   */
  private async queueAndRecord(events: readonly MovedEvent[]): Promise<void> {
    const refs = await this.register(events);
    const priorities = this.deps.fairness ? await this.deps.fairness.priorities(events.map(({ summary }) => summary.account)) : undefined;
    // Traced: one span per event, in its own trace; the job carries the span's context to its processor.
    const traced = traceMove(QUEUE_NAMES.stripeEvents, events.map(({ entry, summary }) => ({ eventId: summary.id, eventType: summary.type, carrier: entry.trace })));
    try {
      await Promise.all(events.map(({ entry, summary }) => this.deps.index.record(summary, entry.body, entry.receivedAt)));
      // The job's timestamp is when the web accepted the webhook: its age and the lag metric count the intake log's wait too.
      await this.deps.queue.addBulk(events.map(({ entry, data, summary }, i) => {
        const ref = refs[i]!;
        const opts = { jobId: summary.id, timestamp: entry.receivedAt, ...(priorities ? { priority: priorities[i]! } : {}) };
        return { name: String(data.type), data: ref, opts: traced ? { ...opts, telemetry: traced.jobTelemetry(i) } : opts };
      }));
    } catch (err) {
      traced?.end(err);
      throw err;
    }
    traced?.end();
  }

  /**
   * Each event takes its place in its object's line before its job exists (src/worker/ordering), and its job's
   * data carries that place and, when the event was alone on its object, the lease granted at queue time.
   */
  private register(events: readonly MovedEvent[]): Promise<(PayloadRef & OrderedRef)[]> {
    const { ordering } = this.deps;
    return orderedRefs(ordering?.order, events.map(({ data, summary }) => ({
      id: summary.id,
      place: ordering?.handles(summary.type) ? orderedEventOf(data, summary.id) : undefined,
    })));
  }

  /**
   * Queues and records a batch. When that fails for something other than Redis being away (an id BullMQ
   * refuses), tries the entries one by one and dead-letters those that
   * still fail, so one bad entry never holds back the others. Redis being away fails the whole batch: it
   * stays in the log and is tried again. Resolves to how many were queued.
   */
  private async queueAll(events: readonly MovedEvent[]): Promise<number> {
    try {
      await this.queueAndRecord(events);
      return events.length;
    } catch (err) {
      if (isRedisUnavailableError(err)) throw err;
    }
    const failures: DeadLetterCandidate[] = [];
    for (const item of events) {
      try {
        await this.queueAndRecord([item]);
      } catch (err) {
        if (isRedisUnavailableError(err)) throw err;
        failures.push({ ...item, error: errorText(err) });
      }
    }
    await this.deadLetter(failures);
    return events.length - failures.length;
  }

  /**
   * Records each failed event as dead-lettered with its error (the events API and the console show it; it can
   * be replayed from there), then sets its entry aside in the dead-letter list and out of the log.
   */
  private async deadLetter(failures: readonly DeadLetterCandidate[]): Promise<void> {
    if (failures.length === 0) return;
    const letters: { entry: IntakeEntry; error: string; keepBody: boolean }[] = [];
    for (const { entry, summary, error } of failures) {
      this.deps.logger.error({ entryId: entry.entryId, eventId: entry.eventId, err: error }, 'intake entry cannot be queued; dead-lettered');
      const recorded = await this.tolerating(async () => {
        await this.deps.index.record(summary, entry.body, entry.receivedAt);
        await this.deps.index.setStatuses([{ id: summary.id, status: 'dead-lettered', fields: { lastError: error, attempts: 0 } }]);
      });
      // The record keeps the payload; only an event without one keeps its body in the dead-letter list.
      letters.push({ entry, error, keepBody: !recorded });
    }
    await this.deps.log.deadLetter(letters);
  }

  /**
   * Runs `work`, resolving false when it failed for something other than Redis being away: setting an entry
   * aside must not itself become a poison pill. Redis being away still fails the round (tried again later).
   */
  private async tolerating(work: () => Promise<void>): Promise<boolean> {
    try {
      await work();
      return true;
    } catch (err) {
      if (isRedisUnavailableError(err)) throw err;
      return false;
    }
  }
}

type DeadLetterCandidate = MovedEvent & { error: string };

const errorText = (err: unknown) => (err instanceof Error ? `${err.name}: ${err.message}` : String(err));

/** The bytes an entry's fields take in Redis's reply, as the read script counts them. */
const entryBytes = (entry: IntakeEntry) =>
  Buffer.byteLength(entry.body) + entry.eventId.length + String(entry.receivedAt).length + 'idreceivedAtbody'.length +
  (entry.source === undefined || entry.source === 'webhook' ? 0 : 'sourcethinId'.length + entry.source.length + (entry.thinId?.length ?? 0)) +
  (entry.trace ? 'traceparenttracestate'.length + entry.trace.traceparent.length + (entry.trace.tracestate?.length ?? 0) : 0);

/**
 * A running mover as a worker process has it: blocking reads on a connection of its own, everything else
 * on `connection`. `stop()` ends the loop (finishing the batch in hand) and closes what it opened.
 */
export function startIntakeMover(config: Config, connection: Redis, logger: Logger): { stop(): Promise<void> } {
  const reader = createRedis(config, 'worker');
  reader.on('error', (err) => logger.warn({ err: err.message }, 'redis connection error (intake reader)'));
  const queue = new Queue(QUEUE_NAMES.stripeEvents, queueOptions(config, connection));
  // A mover's own index: its payload budget follows Redis's maxmemory when EVENT_PAYLOAD_MAX_MB is unset.
  const index = new EventIndex(connection, config);
  if (config.EVENT_PAYLOAD_MAX_MB === undefined) {
    void readRedisMemoryInfo(connection)
      .then(({ maxBytes }) => {
        const bytes = payloadBudgetBytes(undefined, maxBytes);
        index.usePayloadBudget(bytes);
        logger.info({ payloadMaxBytes: bytes, redisMaxMemory: maxBytes }, 'event payload budget');
      })
      .catch((err: unknown) => logger.warn({ err: (err as Error).message }, `cannot read Redis maxmemory; event payloads kept up to ${DEFAULT_PAYLOAD_MAX_MB} MB`));
  }
  const mover = new IntakeMover(
    {
      reader: new IntakeLog(reader, config),
      log: new IntakeLog(connection, config),
      index,
      queue,
      logger,
      ...(config.ORDERING_ENABLED ? { ordering: { order: objectOrderFor(connection, config), handles: (type: string) => STRIPE_EVENT_HANDLERS.get(type) !== undefined } } : {}),
      ...(config.FAIRNESS_EVENTS_PER_STEP > 0
        ? { fairness: new AccountFairness(connection, { base: orderingBase(config.QUEUE_PREFIX), step: config.FAIRNESS_EVENTS_PER_STEP, windowSeconds: config.FAIRNESS_WINDOW_SECONDS }) }
        : {}),
    },
    { batchMaxBytes: parseByteSize(config.INTAKE_BATCH_MAX_BYTES), entryMaxBytes: parseByteSize(config.BODY_LIMIT) },
  );
  mover.start();
  return {
    stop: async () => {
      await mover.stop();
      await queue.close();
      await reader.quit();
    },
  };
}
