import { z } from 'zod';

const bool = z
  .enum(['true', 'false', '1', '0'])
  .transform((v) => v === 'true' || v === '1');
const int = (min: number, max = Number.MAX_SAFE_INTEGER) => {
  // One message whatever failed (not a number, a fraction, out of range): it says what to write instead.
  const expected = max === Number.MAX_SAFE_INTEGER ? `must be a whole number of at least ${min}` : `must be a whole number from ${min} to ${max}`;
  return z.coerce.number({ error: expected }).int({ error: expected }).min(min, { error: expected }).max(max, { error: expected });
};
const byteSize = z.string().regex(/^\d+(b|kb|mb)$/i, 'a size such as 512kb or 1mb');

const BYTE_UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 * 1024 };

/** `1mb`, `512kb`, `100b` (the format of the size keys, e.g. BODY_LIMIT) in bytes. */
export function parseByteSize(size: string): number {
  const match = /^(\d+)(b|kb|mb)$/i.exec(size);
  if (!match) throw new Error(`not a size: ${size}`);
  return Number(match[1]) * BYTE_UNITS[match[2]!.toLowerCase()]!;
}

/**
 * Every setting hooklane reads from the environment. `.env.example` documents each key;
 * a test keeps the two in step.
 */
export const configSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  PORT: int(0, 65535).default(3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  REDIS_URL: z
    .string({ error: 'is required, e.g. redis://127.0.0.1:6379 (rediss:// for TLS)' })
    .regex(/^rediss?:\/\//, 'must start with redis:// or rediss://'),
  // ElastiCache AUTH token, when it is not in REDIS_URL: Elastic Beanstalk fetches it from Secrets Manager by ARN.
  REDIS_PASSWORD: z.string().min(1).optional(),
  QUEUE_PREFIX: z.string().regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ and - only').default('hooklane'),
  TRUST_PROXY: z.coerce.number().int().min(0).default(1),
  BODY_LIMIT: byteSize.default('1mb'),
  // POST /api/jobs: far below BODY_LIMIT (which webhooks need), so a key holder cannot fill Redis quickly.
  JOBS_BODY_LIMIT: byteSize.default('64kb'),
  REDIS_READY_TIMEOUT_MS: int(50, 60_000).default(1000),
  REDIS_BOOT_TIMEOUT_MS: int(100, 600_000).default(30_000),
  ENQUEUE_TIMEOUT_MS: int(50, 60_000).default(1000),
  INTAKE_MEMORY_HIGH_WATER: z.coerce.number().min(0.5).max(1).default(0.9),
  SHUTDOWN_TIMEOUT_MS: int(100, 600_000).default(10_000),
  IDEMPOTENCY_TTL_SECONDS: int(60).default(86_400),
  ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  ADMIN_RATE_LIMIT_PER_MINUTE: int(1).default(300),
  ADMIN_AUTH_FAILURES_PER_MINUTE: int(1).default(10),
  API_KEY_RATE_LIMIT_PER_MINUTE: int(1).default(600),
  // Where the web writes the request log EB's health agent reads (src/web/healthd-log.ts); unset: not written.
  HEALTHD_LOG_DIR: z.string().startsWith('/', 'an absolute path').optional(),
  // The X-Origin-Verify value(s) CloudFront sends (infra/lib/origin-verify.ts); two comma-separated while rotating.
  ORIGIN_VERIFY_SECRET: z
    .string()
    .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean))
    .pipe(
      z
        .array(z.string().regex(/^[\x21-\x7e]{32,}$/, 'each value must be 32+ visible ASCII characters'))
        .min(1, 'at least one value')
        .max(2, 'at most two values (the new and the old one while rotating)'),
    )
    .optional(),

  WORKER_CONCURRENCY: int(1, 1000).default(10),
  WORKER_SANDBOX: z.enum(['thread', 'process', 'none']).default('thread'),
  WORKER_SHUTDOWN_TIMEOUT_MS: int(100, 600_000).default(20_000),
  WORKER_STALLED_INTERVAL_MS: int(100).default(30_000),
  WORKER_LOCK_DURATION_MS: int(100).default(30_000),
  JOB_ATTEMPTS: int(1, 100).default(5),
  JOB_BACKOFF_DELAY_MS: int(0).default(1000),
  JOB_REMOVE_ON_COMPLETE_AGE_SECONDS: int(0).default(3600),
  JOB_REMOVE_ON_FAIL_AGE_SECONDS: int(0).default(86_400),
  JOB_REMOVE_COUNT_LIMIT: int(1).default(100_000),
  // BullMQ's events stream feeds QueueEvents listeners, and hooklane has none (the event index and the
  // worker's metrics say what happened): 1,000 entries leave room for an operator's listener, not 10,000 (~2 MiB).
  QUEUE_EVENTS_MAX_LEN: int(100).default(1_000),
  // A handler's ctx.log lines in its Stripe event job's log (a Redis list per job, ~230 bytes each kept as
  // long as the job): off, they go to the worker's stdout log instead, with the job's ids.
  STRIPE_EVENT_JOB_LOGS: bool.default(false),
  // Compact event records (~190 bytes less each): payloads of at most 512 compressed bytes in the record instead
  // of a key of their own, and no id or index member stored in it. Versions before this one cannot read them,
  // so it is off until every instance runs this version (then turn it on; the next release does by default).
  EVENT_RECORDS_COMPACT: bool.default(false),
  METRICS_ENABLED: bool.default(true),
  // Application metrics to CloudWatch (src/worker/cloudwatch-publisher.ts): on wherever AWS_REGION is set.
  METRICS_CLOUDWATCH: bool.default(true),
  // Prometheus `GET /metrics` (src/metrics/metrics-server.ts) on a port of its own, never the web's public one.
  // Unset: no endpoint. Each process type needs its own port when they share a host (web 9464, worker 9465).
  METRICS_PORT: int(0, 65535).optional(),
  // Loopback by default: only this host scrapes. In a container, 0.0.0.0 with the port published on the
  // host's 127.0.0.1 only (docker-compose.yml).
  METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  // How long a scrape may wait for the queue depths from Redis before answering without them.
  METRICS_COLLECT_TIMEOUT_MS: int(50, 60_000).default(1000),
  METRICS_ENVIRONMENT: z.string().regex(/^[A-Za-z0-9._-]{1,100}$/, 'letters, digits, ., _ and -').default('local'),
  AWS_REGION: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'an AWS region such as eu-west-1').optional(),
  // Set by `npm start`'s supervisor only: mounts /dev (it signs Stripe App calls). Refused in production.
  DEV_ROUTES: bool.default(false),

  // Stripe webhooks (issue 3). Comma-separated so a secret can be rotated: every listed one is accepted.
  STRIPE_WEBHOOK_SECRET: z
    .string()
    .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean))
    .pipe(z.array(z.string().regex(/^whsec_\S+$/, 'each secret must start with whsec_')).min(1, 'at least one whsec_ secret'))
    .optional(),
  STRIPE_WEBHOOK_TOLERANCE_SECONDS: int(1, 86_400).default(300),
  EVENT_INDEX_RETENTION_DAYS: int(1, 3650).default(30),
  EVENT_INDEX_MAX_EVENTS: int(100).default(100_000),
  // How long an accepted event id is recognised after the event's `created` (src/events/dedup-window.ts),
  // whatever the volume. Stripe retries a delivery for up to 3 days: less than 72 hours is refused.
  DEDUP_WINDOW_HOURS: int(72, 8760).default(96),
  // Compressed payloads the event index keeps at most (oldest dropped first); unset: a quarter of Redis's
  // maxmemory when it has one, else 256 MB (src/events/payload-store.ts).
  EVENT_PAYLOAD_MAX_MB: int(1, 1_048_576).optional(),
  // How long a worker holds an event status update so others share its write (one round trip per batch).
  EVENT_STATUS_FLUSH_MS: int(1, 60_000).default(5),
  // The index sweep (src/worker/index-sweep.ts): how often each worker tries a run, and how long a record
  // stays queued/processing before a run checks it against its job. A record converges within
  // INDEX_SWEEP_AFTER_MS + 2 × INDEX_SWEEP_INTERVAL_MS after its job finished.
  INDEX_SWEEP_INTERVAL_MS: int(100, 3_600_000).default(15_000),
  INDEX_SWEEP_AFTER_MS: int(100, 86_400_000).default(30_000),
  // Per-object ordering (issue 19, src/worker/ordering): events of one Stripe object run one at a time, oldest
  // first. A lease lasts ORDERING_LEASE_MS without renewal (the bound on a dead holder); a job that finds its
  // object busy waits ORDERING_STEP_ASIDE_MS (or until woken) without spending an attempt.
  ORDERING_ENABLED: bool.default(true),
  ORDERING_LEASE_MS: int(300, 600_000).default(30_000),
  ORDERING_STEP_ASIDE_MS: int(10, 60_000).default(250),
  ORDERING_MEMORY_HOURS: int(1, 24 * 90).default(72),
  // Fairness between accounts: an account's events in the current FAIRNESS_WINDOW_SECONDS get BullMQ priority
  // 1 + floor(n / FAIRNESS_EVENTS_PER_STEP), so a quiet account's events pass a noisy account's backlog. 0 turns it off.
  FAIRNESS_EVENTS_PER_STEP: int(0, 1_000_000).default(100),
  FAIRNESS_WINDOW_SECONDS: int(1, 3600).default(60),
  // The intake (issue 14). Replicas that must hold an event before its 200 (Redis WAIT): 0 answers once
  // the primary has it; ElastiCache Multi-AZ replicates asynchronously, so production sets 1.
  INTAKE_MIN_REPLICAS: int(0, 5).default(0),
  INTAKE_REPLICA_TIMEOUT_MS: int(1, 60_000).default(200),
  // What one mover batch may hold in event bodies: reads stop short of it (one larger event still moves alone).
  INTAKE_BATCH_MAX_BYTES: byteSize.default('8mb'),

  // Stripe App back-end (issue 3). Optional outside production, where the routes answer 503 until set.
  STRIPE_SECRET_KEY: z.string().regex(/^(sk|rk)_/, 'a secret (sk_...) or restricted (rk_...) key').optional(),
  STRIPE_APP_SECRET: z.string().regex(/^absec_/, "the app's signing secret (absec_...)").optional(),
  STRIPE_APP_RATE_LIMIT_PER_MINUTE: int(1).default(300),
  STRIPE_APP_USER_RATE_LIMIT_PER_MINUTE: int(1).default(60),
  STRIPE_APP_SIGN_IN_RATE_LIMIT_PER_MINUTE: int(1).default(30),
  STRIPE_API_BASE: z.url({ protocol: /^https?$/ }).optional(),
  STRIPE_API_TIMEOUT_MS: int(100, 120_000).default(10_000),
  // Stripe API requests per second for every worker together (issue 18); unset: 20 live, 10 test (by the key).
  STRIPE_API_REQUESTS_PER_SECOND: int(1, 10_000).optional(),
  // How long after its send a request to Stripe is assumed to have arrived, if not answered sooner: the budget's
  // margin for the network's delay (docs/stripe.md); larger is safer from 429s and uses less of the limit.
  STRIPE_API_SEND_DELAY_BOUND_MS: int(0, 1000).default(50),
  // How often workers list Stripe's events to recover missed deliveries; 0 turns reconciliation off.
  RECONCILE_INTERVAL_MINUTES: int(0, 1440).default(15),
  STRIPE_REDIRECT_URL: z.url({ protocol: /^https?$/ }).optional(),
  OAUTH_ISSUER: z.url({ protocol: /^https?$/ }).optional(),
  OAUTH_AUTHORIZATION_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
  OAUTH_TOKEN_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
  OAUTH_USERINFO_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
  OAUTH_CLIENT_ID: z.string().min(1).optional(),
  OAUTH_CLIENT_SECRET: z.string().min(1).optional(),
  OAUTH_REDIRECT_URI: z.url({ protocol: /^https?$/ }).optional(),
  OAUTH_SCOPES: z.string().regex(/^\S+( \S+)*$/, 'space-separated scopes').default('openid email profile offline_access'),
  OAUTH_TIMEOUT_MS: int(100, 120_000).default(5000),

  // Tracing (OpenTelemetry, src/telemetry/): the standard variables, which the SDK itself reads; validated here so a
  // typo stops the process at boot. No endpoint (or OTEL_SDK_DISABLED=true): the SDK is never loaded.
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
  OTEL_SERVICE_NAME: z.string().regex(/^[\x21-\x7e]{1,100}$/, '1-100 visible ASCII characters').optional(),
  OTEL_TRACES_SAMPLER: z
    .enum(['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'])
    .optional(),
  OTEL_TRACES_SAMPLER_ARG: z.coerce.number({ error: 'a ratio from 0 to 1' }).min(0, { error: 'a ratio from 0 to 1' }).max(1, { error: 'a ratio from 0 to 1' }).optional(),
  OTEL_SDK_DISABLED: bool.default(false),
});

export type Config = Readonly<z.infer<typeof configSchema>>;

/** Raised when the environment does not satisfy the schema; `message` names every bad key. */
export class ConfigError extends Error {
  constructor(readonly issues: string[]) {
    super(`Invalid configuration:\n${issues.map((i) => `  - ${i}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Validates `env` once, at boot, and returns a frozen config. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const input = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== ''));
  const parsed = configSchema.safeParse(input);
  if (!parsed.success) {
    // One line per key: a key with several problems (e.g. two bad secrets in a list) is named once.
    const byKey = new Map<string, string>();
    for (const issue of parsed.error.issues) {
      const key = String(issue.path[0] ?? '(root)');
      if (!byKey.has(key)) byKey.set(key, `${key}: ${issue.message}`);
    }
    throw new ConfigError([...byKey.values()]);
  }
  const config = parsed.data;
  if (config.NODE_ENV === 'production' && !config.ADMIN_TOKEN) {
    throw new ConfigError(['ADMIN_TOKEN: is required when NODE_ENV=production']);
  }
  if (config.NODE_ENV === 'production' && !config.STRIPE_WEBHOOK_SECRET) {
    throw new ConfigError(['STRIPE_WEBHOOK_SECRET: is required when NODE_ENV=production']);
  }
  if (config.INTAKE_MIN_REPLICAS > 0 && config.INTAKE_REPLICA_TIMEOUT_MS >= config.ENQUEUE_TIMEOUT_MS) {
    // The wait happens inside the intake's deadline: a longer one would turn every slow replica into REDIS_UNAVAILABLE.
    throw new ConfigError(['INTAKE_REPLICA_TIMEOUT_MS: must be below ENQUEUE_TIMEOUT_MS']);
  }
  if (config.NODE_ENV === 'production' && config.DEV_ROUTES) {
    throw new ConfigError(['DEV_ROUTES: must not be set when NODE_ENV=production (it mounts a signer for Stripe App calls)']);
  }
  if (config.NODE_ENV === 'production') {
    const issues = stripeAppProductionIssues(config);
    if (issues.length) throw new ConfigError(issues);
  }
  return Object.freeze(config);
}

/** The Stripe App keys that are missing: empty when the Stripe App routes can run. */
export function missingStripeAppKeys(config: Config): string[] {
  const required = [
    'STRIPE_SECRET_KEY',
    'STRIPE_APP_SECRET',
    'STRIPE_REDIRECT_URL',
    'OAUTH_CLIENT_ID',
    'OAUTH_CLIENT_SECRET',
    'OAUTH_REDIRECT_URI',
  ] as const;
  const missing: string[] = required.filter((key) => !config[key]);
  const explicit = config.OAUTH_AUTHORIZATION_ENDPOINT && config.OAUTH_TOKEN_ENDPOINT && config.OAUTH_USERINFO_ENDPOINT;
  if (!config.OAUTH_ISSUER && !explicit) {
    missing.push('OAUTH_ISSUER (or OAUTH_AUTHORIZATION_ENDPOINT, OAUTH_TOKEN_ENDPOINT and OAUTH_USERINFO_ENDPOINT)');
  }
  return missing;
}

// Plain http is for the local emulators only; in production every Stripe and provider URL is https.
const HTTPS_ONLY_KEYS = [
  'STRIPE_API_BASE',
  'OAUTH_ISSUER',
  'OAUTH_AUTHORIZATION_ENDPOINT',
  'OAUTH_TOKEN_ENDPOINT',
  'OAUTH_USERINFO_ENDPOINT',
  'OAUTH_REDIRECT_URI',
] as const;

function stripeAppProductionIssues(config: Config): string[] {
  const missing = missingStripeAppKeys(config).map((key) => `${key}: is required when NODE_ENV=production`);
  const insecure = HTTPS_ONLY_KEYS.filter((key) => config[key]?.startsWith('http:')).map(
    (key) => `${key}: must be https when NODE_ENV=production`,
  );
  return [...missing, ...insecure];
}

/**
 * The error as a person at a terminal reads it (`pretty`), or as one JSON line for a log collector.
 * Issues name keys and expectations, never values: some keys are secrets.
 */
export function formatConfigError(err: ConfigError, { pretty }: { pretty: boolean }): string {
  if (!pretty) return `${JSON.stringify({ level: 'fatal', msg: 'Invalid configuration', issues: err.issues })}\n`;
  return [
    '[hooklane] the configuration is not valid:',
    ...err.issues.map((issue) => `  ${issue}`),
    'Each key is described in docs/configuration.md and .env.example.',
    '',
  ].join('\n');
}

/**
 * Loads config for an entry point; on failure prints the problem (readable on a terminal outside
 * production, JSON otherwise) and exits with status 78 (EX_CONFIG).
 */
export function loadConfigOrExit(env: NodeJS.ProcessEnv = process.env): Config {
  try {
    return loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) {
      const pretty = Boolean(process.stderr.isTTY) && env.NODE_ENV !== 'production';
      process.stderr.write(formatConfigError(err, { pretty }));
      process.exit(78);
    }
    throw err;
  }
}

/** The shared Stripe API budget: STRIPE_API_REQUESTS_PER_SECOND, else Stripe's live or test limit halved or so. */
export function stripeRequestsPerSecond(config: Pick<Config, 'STRIPE_API_REQUESTS_PER_SECOND' | 'STRIPE_SECRET_KEY'>): number {
  if (config.STRIPE_API_REQUESTS_PER_SECOND) return config.STRIPE_API_REQUESTS_PER_SECOND;
  return /^(sk|rk)_live_/.test(config.STRIPE_SECRET_KEY ?? '') ? 20 : 10;
}
