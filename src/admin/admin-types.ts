/**
 * The admin API's wire contract, shared by the server (src/web/admin-routes.ts) and the console
 * (src/frontend). Types only: the console imports this file without pulling in any server code.
 */

/** Job states the console counts and lists. */
export const JOB_STATES = ['waiting', 'active', 'delayed', 'completed', 'failed', 'paused'] as const;
export type JobState = (typeof JOB_STATES)[number];

export type JobCounts = Record<JobState, number>;

export interface WorkerInfo {
  /** BullMQ's client name for the worker connection. */
  name: string;
  /** host:port of the worker's Redis connection, as Redis sees it. */
  addr: string;
  /** Seconds since the worker connected. */
  ageSeconds: number;
}

/** Completed and failed jobs per minute, oldest first; the last entry is the current (partial) minute. */
export interface Throughput {
  /** Start of the first minute, epoch ms. */
  startsAt: number;
  completed: number[];
  failed: number[];
}

export interface QueueOverview {
  name: string;
  counts: JobCounts;
  isPaused: boolean;
  workers: WorkerInfo[];
  /** Age of the job that has waited longest, or null when nothing waits. */
  oldestWaitingAgeMs: number | null;
  throughput: Throughput;
}

export interface RedisMemory {
  usedBytes: number;
  /** 0 means no limit. */
  maxBytes: number;
  policy: string;
}

/** Accepted webhooks not yet turned into jobs (IntakeMover): waiting in the intake log, of which pending are in a mover's hands. */
export interface IntakeOverview {
  waiting: number;
  pending: number;
  /** Entries no job could be made of, set aside (the newest 1,000 are kept); their events show as dead-lettered. */
  deadLettered: number;
}

/** The Stripe API budget every worker shares (STRIPE_API_REQUESTS_PER_SECOND). */
export interface StripeBudgetOverview {
  perSecond: number;
  /** Requests in flight or that reached Stripe within the last second. */
  inUse: number;
  /** A 429 from Stripe paused every worker just now. */
  paused: boolean;
  /** Requests sent and 429s received since Redis was last emptied. */
  sent: number;
  rateLimited: number;
}

/** The event index's convergence (the index sweep in every worker): records not final, and events lost. */
export interface EventIndexOverview {
  /** Records queued or processing now. */
  open: number;
  /** How long the oldest of them has been so (a stuck one grows until the sweep settles it), or null. */
  oldestOpenAgeMs: number | null;
  /** Events marked lost, ever: their job was gone and had never finished. Anything above 0 needs a look. */
  lost: number;
}

export interface Overview {
  generatedAt: string;
  queues: QueueOverview[];
  intake: IntakeOverview;
  events: EventIndexOverview;
  redis: RedisMemory;
  stripeBudget: StripeBudgetOverview;
  /** The latest events Stripe said it failed to generate (newest first). */
  healthAlerts: HealthAlertOverview[];
}

/** See src/events/health-alerts.ts. */
export interface HealthAlertOverview {
  eventId: string;
  alertId: string | null;
  summary: string | null;
  severity: string | null;
  resolvedAt: string | null;
  eventType: string | null;
  refetch: { id: string | null; type: string | null; url: string | null } | null;
  receivedAt: string;
}

export interface JobSummary {
  id: string;
  name: string;
  state: string;
  progress: unknown;
  attemptsMade: number;
  maxAttempts: number;
  failedReason: string | null;
  createdAt: string | null;
  processedAt: string | null;
  finishedAt: string | null;
}

export interface JobPage {
  queue: string;
  state: JobState;
  /** 1-based. */
  page: number;
  pageSize: number;
  total: number;
  jobs: JobSummary[];
}

export interface JobDetail extends JobSummary {
  queue: string;
  data: unknown;
  returnValue: unknown;
  stacktrace: string[];
  logs: string[];
  /** When a delayed job becomes due, epoch ms; null otherwise. */
  delayedUntil: number | null;
}

export type JobAction = 'retry' | 'remove' | 'promote' | 'retry-all-failed';

export interface ActionResult {
  action: JobAction;
  queue: string;
  jobId?: string;
  /** For bulk actions: how many jobs it applied to. */
  count?: number;
}

export interface AdminSession {
  tokenId: string;
}
