import { loadavg } from 'node:os';
import { Redis } from 'ioredis';
import type Stripe from 'stripe';
import type { Stack } from '../src/dev/stack';
import type { StripeEmulator } from '../src/dev/stripe-emulator';
import type { ReconcileRun } from '../src/stripe/reconciler';
import { BENCH_WEBHOOK_SECRET, signedEvents, type EventMaker } from '../bench/lib/signed-events';
import { sendMalformed, type MalformedReport } from './lib/malformed';
import { rssOf } from './lib/process-memory';
import { addJobPile, readMemory, setMaxmemory } from './lib/redis-memory';
import { HOOKLANE_ENV } from '../bench/lib/hooklane-env';
import { SteadyLoad, summarise, type LoadSummary } from '../bench/lib/steady-load';
import { verifyProcessing, type ProcessingReport } from './lib/verify';
import { countSources, indexConverged, verifyIndex, type IndexReport } from './lib/verify-index';

export interface ScenarioResult {
  name: string;
  passed: boolean;
  /** What must hold, in words. */
  expectation: string;
  load: Omit<LoadSummary, 'accepted'>;
  processing?: ProcessingReport;
  /** What the event index says about the accepted events, once their jobs finished. */
  index?: IndexReport;
  details: Record<string, unknown>;
}

export interface Scale {
  rate: number;
  seconds: number;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** BullMQ's job hashes first (every job finished), then the event index (every record final within the bound). */
async function verifyAccepted(stack: Stack, accepted: string[]): Promise<{ processing: ProcessingReport; index: IndexReport; indexOk: boolean }> {
  const processing = await verifyProcessing(stack.redis.url, accepted);
  const index = await verifyIndex(stack.redis.url, accepted, stack.worker.map((w) => w.logFile));
  return { processing, index, indexOk: indexConverged(index, processing.failed) };
}
const trimmed = ({ accepted: _accepted, ...rest }: LoadSummary) => rest;

function load(stack: Stack, scale: Scale, prefix: string): SteadyLoad {
  return new SteadyLoad({
    url: stack.url,
    rate: scale.rate,
    maxRequests: scale.rate * scale.seconds,
    maxDurationMs: scale.seconds * 1000 + 5000,
    secret: BENCH_WEBHOOK_SECRET,
    prefix,
  });
}

/** SIGKILL a worker while it drains a backlog: every accepted event is still processed. */
export async function workerSigkill(stack: Stack, scale: Scale): Promise<ScenarioResult> {
  // A burst builds a backlog the workers are draining when one of them dies mid-job.
  const burst = new SteadyLoad({ url: stack.url, rate: 5000, maxRequests: scale.rate * 4, maxDurationMs: 20_000, secret: BENCH_WEBHOOK_SECRET, prefix: `wk${Date.now().toString(36)}b` });
  const steady = load(stack, scale, `wk${Date.now().toString(36)}s`);
  const victim = stack.worker[0]!;
  await burst.done;
  await pause(150);
  const killedPid = victim.pid;
  await victim.kill('SIGKILL');
  const outcomes = [...burst.outcomes, ...(await steady.done)];
  const summary = summarise(outcomes);
  const { processing, index, indexOk } = await verifyAccepted(stack, summary.accepted);
  return {
    name: 'SIGKILL a worker mid-drain',
    expectation: 'every accepted event processed (lost = 0) and final in the index within the bound; handlers started twice are reported',
    passed: processing.lost === 0 && processing.failed === 0 && indexOk,
    load: trimmed(summary),
    processing,
    index,
    details: { killedPid, replacementStarted: victim.starts > 1 },
  };
}

/** SIGTERM a web instance under load: zero failed requests through the load balancer. */
export async function webSigterm(stack: Stack, scale: Scale): Promise<ScenarioResult> {
  const steady = load(stack, scale, `wt${Date.now().toString(36)}`);
  await pause((scale.seconds * 1000) / 3);
  const victim = stack.web[0]!;
  const starts = victim.starts;
  const exit = await victim.kill('SIGTERM');
  const summary = summarise(await steady.done);
  await victim.waitForReplacement(starts, 30_000).catch(() => undefined);
  const { processing, index, indexOk } = await verifyAccepted(stack, summary.accepted);
  return {
    name: 'SIGTERM a web instance under load',
    expectation: 'zero failed requests through HAProxy; every accepted event processed and final in the index',
    passed: summary.failed === 0 && processing.lost === 0 && indexOk,
    load: trimmed(summary),
    processing,
    index,
    details: { exit },
  };
}

/** SIGKILL a web instance: the balancer routes around it; failed requests and time to recover. */
export async function webSigkill(stack: Stack, scale: Scale): Promise<ScenarioResult> {
  const steady = load(stack, scale, `wk${Date.now().toString(36)}`);
  await pause((scale.seconds * 1000) / 3);
  const victim = stack.web[1] ?? stack.web[0]!;
  const starts = victim.starts;
  const killedAt = performance.now();
  const killedAtLoadMs = steady.elapsedMs;
  await victim.kill('SIGKILL');
  await victim.waitForReplacement(starts, 30_000);
  // Back in rotation once HAProxy's health checks see the replacement ready.
  let backInRotationMs: number | null = null;
  while (performance.now() - killedAt < 30_000) {
    if ((await stack.haproxy.serverStates())[victim.name] === 'UP') {
      backInRotationMs = Math.round(performance.now() - killedAt);
      break;
    }
    await pause(50);
  }
  const outcomes = await steady.done;
  const summary = summarise(outcomes);
  const failures = outcomes.filter((o) => o.status < 200 || o.status >= 300);
  const lastFailureMs = failures.length ? Math.round(Math.max(...failures.map((o) => o.at + o.ms)) - killedAtLoadMs) : 0;
  const { processing, index, indexOk } = await verifyAccepted(stack, summary.accepted);
  return {
    name: 'SIGKILL a web instance under load',
    expectation: 'HAProxy routes around it; failed requests and recovery time reported; accepted events processed and final in the index',
    passed: processing.lost === 0 && indexOk,
    load: trimmed(summary),
    processing,
    index,
    details: { failedRequests: failures.length, lastFailureAfterKillMs: lastFailureMs, replacementBackInRotationMs: backInRotationMs },
  };
}

/** Restart Redis under load: only 503s while it is down, nothing acknowledged lost, workers resume. */
export async function redisRestart(stack: Stack, scale: Scale, downMs = 3000): Promise<ScenarioResult> {
  // Long enough for load before the stop, during the outage and well after the restart.
  const steady = load(stack, { rate: scale.rate, seconds: Math.max(scale.seconds, downMs / 1000 + 8) }, `rr${Date.now().toString(36)}`);
  await pause(2000);
  const stoppedAtMs = steady.elapsedMs;
  await stack.redis.stop();
  await pause(downMs);
  await stack.redis.start();
  const restartedAtMs = steady.elapsedMs;
  const outcomes = await steady.done;
  const summary = summarise(outcomes);
  const unexpected = Object.keys(summary.byStatus).filter((s) => s !== '200' && s !== '503');
  const { processing, index, indexOk } = await verifyAccepted(stack, summary.accepted);
  const acceptedAfterRestart = outcomes.filter((o) => o.status === 200 && o.at > restartedAtMs).length;
  const unavailable = outcomes.filter((o) => o.status === 503);
  return {
    name: 'Restart Redis under load',
    expectation: 'only 200 and 503 answers; zero acknowledged events lost; workers resume by themselves; the index converges',
    passed: unexpected.length === 0 && processing.lost === 0 && Object.keys(summary.errors).length === 0 && acceptedAfterRestart > 0 && indexOk,
    load: trimmed(summary),
    processing,
    index,
    details: {
      redisDownMs: Math.round(restartedAtMs - stoppedAtMs),
      unexpectedStatuses: unexpected,
      first503AfterStopMs: unavailable.length ? Math.round(Math.min(...unavailable.map((o) => o.at)) - stoppedAtMs) : null,
      last503AfterRestartMs: unavailable.length ? Math.round(Math.max(...unavailable.map((o) => o.at + o.ms)) - restartedAtMs) : null,
      acceptedAfterRestart,
    },
  };
}

/** Bounded wait for `condition`, checked every 50 ms; resolves to whether it held before `timeoutMs`. */
async function waitFor(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) return false;
    await pause(50);
  }
  return true;
}

let adminRetries = 0;

/**
 * One admin API call through the load balancer, as the console makes it. When HAProxy has no web in
 * rotation (both failed a health check: seen on an overloaded machine) it is sent again, as an operator
 * would reload; those retries are counted.
 */
async function adminCall(stack: Stack, method: string, path: string, json?: unknown): Promise<{ status: number; ms: number; body: unknown }> {
  const started = performance.now();
  for (let attempt = 0; ; attempt += 1) {
    const res = await fetch(`${stack.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${HOOKLANE_ENV.ADMIN_TOKEN}`, ...(json === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(json === undefined ? {} : { body: JSON.stringify(json) }),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    const fromHaproxy = res.status === 503 && text.includes('<html>');
    if (fromHaproxy && attempt < 20) {
      adminRetries += 1;
      await pause(500);
      continue;
    }
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // an HTML answer from HAProxy: kept as text
    }
    return { status: res.status, ms: Math.round(performance.now() - started), body };
  }
}

// 16 MiB of big jobs. A page of them is read whole from Redis (BullMQ reads each job's hash), so the
// operator lists a few at a time, as the console's pages do.
const PILE_JOBS = 32;
const PILE_JOB_BYTES = 512 * 1024;
const PAGE_SIZE = 8;

/**
 * Redis reaches its maxmemory (noeviction, as ElastiCache must run) under webhook load, with a pile of big
 * jobs in the jobs queue. Webhooks must answer 503 (never 500, never 200 without storing); the operator,
 * with the admin token, reads the overview and removes the pile through the admin API; intake then resumes
 * (up to INTAKE_MEMORY_HIGH_WATER, so the workers keep room to drain), and every event acknowledged before,
 * during or after is processed.
 */
export async function redisFull(stack: Stack, scale: Scale, fullForMs = 2000, resumedForMs = 3000): Promise<ScenarioResult> {
  const loadAverage = loadavg()[0];
  adminRetries = 0;
  const pile = await addJobPile(stack.redis.url, PILE_JOBS, PILE_JOB_BYTES);
  // Runs until a few seconds after intake resumed (stopped below), bounded at two minutes.
  const steady = new SteadyLoad({
    url: stack.url,
    rate: scale.rate,
    maxRequests: scale.rate * 120,
    maxDurationMs: 120_000,
    secret: BENCH_WEBHOOK_SECRET,
    prefix: `rf${Date.now().toString(36)}`,
  });
  try {
    // Under load, Redis reaches its maxmemory: set to what it uses now, every write from here on is OOM.
    await waitFor(() => steady.outcomes.filter((o) => o.status === 200).length >= scale.rate, 30_000);
    const atFull = await readMemory(stack.redis.url);
    const maxmemory = atFull.usedBytes;
    await setMaxmemory(stack.redis.url, maxmemory);
    const fullAtMs = steady.elapsedMs;
    const refusedByWeb = (o: { status: number; code?: string; at: number }) => o.status === 503 && o.code === 'REDIS_UNAVAILABLE' && o.at > fullAtMs;
    const becameFull = await waitFor(() => steady.outcomes.some(refusedByWeb), 10_000);
    const firstRefusedAtMs = Math.min(...steady.outcomes.filter(refusedByWeb).map((o) => o.at)) - fullAtMs;
    await pause(fullForMs);

    // The operator's console: the overview, the pile listed, each job removed.
    const overview = await adminCall(stack, 'GET', '/api/admin/overview');
    const memoryInOverview = (overview.body as { redis?: unknown }).redis ?? null;
    const removalStartedAtMs = steady.elapsedMs;
    const listings: Array<{ status: number; ms: number }> = [];
    const removals: number[] = [];
    const removalMs: number[] = [];
    let firstRemovedAtMs: number | undefined;
    // Page by page, as an operator would: list the first page of delayed jobs, remove them, again.
    for (let round = 0; round <= PILE_JOBS / PAGE_SIZE + 1; round += 1) {
      const listed = await adminCall(stack, 'GET', `/api/admin/queues/jobs/jobs?state=delayed&pageSize=${PAGE_SIZE}`);
      listings.push({ status: listed.status, ms: listed.ms });
      const ids = ((listed.body as { jobs?: Array<{ id: string }> }).jobs ?? []).map((j) => j.id);
      if (listed.status !== 200 || ids.length === 0) break;
      for (const id of ids) {
        const removed = await adminCall(stack, 'DELETE', `/api/admin/queues/jobs/jobs/${encodeURIComponent(id)}`);
        removals.push(removed.status);
        removalMs.push(removed.ms);
        if (removed.status === 200) firstRemovedAtMs ??= steady.elapsedMs;
      }
    }
    const removedAtMs = steady.elapsedMs;
    const afterRemoval = await readMemory(stack.redis.url);
    // Intake resumes as soon as a removal takes Redis under the high-water mark, often while the operator is
    // still removing (and then it fills the freed memory up to the mark again).
    const resumedAfter = firstRemovedAtMs ?? removedAtMs;
    const resumed = await waitFor(() => steady.outcomes.some((o) => o.status === 200 && o.at > resumedAfter), 30_000);
    // Then the load stops, so the workers drain what was accepted into the memory the removal freed.
    await pause(resumedForMs);
    const outcomes = await steady.stop();
    const summary = summarise(outcomes);
    const unexpected = Object.keys(summary.byStatus).filter((status) => status !== '200' && status !== '503');
    // 503 from HAProxy: both webs failed a health check (a 1 s timeout; seen only on an overloaded machine).
    const unexpectedCodes = Object.keys(summary.byCode).filter((code) => code !== '503 REDIS_UNAVAILABLE' && code !== '503 haproxy');
    const { processing, index, indexOk } = await verifyAccepted(stack, summary.accepted);
    const acceptedAfterRemoval = outcomes.filter((o) => o.status === 200 && o.at > resumedAfter);
    const removalStatuses = removals.reduce<Record<string, number>>((by, status) => ({ ...by, [status]: (by[status] ?? 0) + 1 }), {});
    return {
      name: 'Redis full (maxmemory, noeviction) under load',
      expectation:
        'webhooks answer only 200 or 503 REDIS_UNAVAILABLE while full; the admin overview and job removal work; intake resumes after the removal; zero acknowledged events lost',
      passed:
        becameFull &&
        unexpected.length === 0 &&
        unexpectedCodes.length === 0 &&
        Object.keys(summary.errors).length === 0 &&
        overview.status === 200 &&
        listings.every((l) => l.status === 200) &&
        removals.length === pile.length &&
        removals.every((status) => status === 200) &&
        resumed &&
        processing.lost === 0 &&
        processing.failed === 0 &&
        indexOk,
      load: trimmed(summary),
      processing,
      index,
      details: {
        loadAverageAtStart: Math.round(loadAverage! * 10) / 10,
        adminRetriesWhileNoWebInRotation: adminRetries,
        pileMiB: mib(PILE_JOBS * PILE_JOB_BYTES),
        maxmemoryMiB: mib(maxmemory),
        firstRefusedAfterFullMs: Number.isFinite(firstRefusedAtMs) ? Math.round(firstRefusedAtMs) : null,
        acceptedBeforeFull: outcomes.filter((o) => o.status === 200 && o.at <= fullAtMs).length,
        refusedWhileFull: summary.byCode['503 REDIS_UNAVAILABLE'] ?? 0,
        haproxyNoServer: summary.byCode['503 haproxy'] ?? 0,
        overview: { status: overview.status, ms: overview.ms, redis: memoryInOverview },
        listings: { statuses: listings.map((l) => l.status), maxMs: Math.max(0, ...listings.map((l) => l.ms)) },
        removals: { statuses: removalStatuses, totalMs: Math.round(removedAtMs - removalStartedAtMs), maxMs: Math.max(0, ...removalMs) },
        usedAfterRemovalMiB: mib(afterRemoval.usedBytes),
        firstAcceptedAfterFirstRemovalMs: acceptedAfterRemoval.length ? Math.round(Math.min(...acceptedAfterRemoval.map((o) => o.at)) - resumedAfter) : null,
        acceptedAfterFirstRemoval: acceptedAfterRemoval.length,
        unexpectedStatuses: unexpected,
        unexpectedCodes,
      },
    };
  } finally {
    await steady.stop();
    await setMaxmemory(stack.redis.url, 0).catch(() => undefined);
  }
}

/** 10,000 malformed requests: zero 5xx, zero crashes, memory back to baseline. */
export async function malformedFlood(stack: Stack, count: number): Promise<ScenarioResult> {
  const pids = stack.web.map((w) => w.pid);
  const starts = stack.web.map((w) => w.starts);
  // Baseline after a warm-up of the same mix (JIT, buffers and heap sized for the work, 2 MiB bodies included).
  await sendMalformed(stack.url, Math.min(2000, count));
  await pause(3000);
  const before = stack.web.map((w) => rssOf(w.pid));
  const report: MalformedReport = await sendMalformed(stack.url, count, 32, () => stack.web.map((w) => rssOf(w.pid)));
  await pause(5000);
  const after = stack.web.map((w) => rssOf(w.pid));
  const crashed = stack.web.filter((w, i) => w.pid !== pids[i] || w.starts !== starts[i]).length;
  const fiveXx = Object.entries(report.byStatus).filter(([s]) => Number(s) >= 500).reduce((n, [, c]) => n + c, 0);
  // Back to baseline: within 15 % + 16 MiB of the warmed-up size (V8 keeps heap it grew into and reuses
  // it; a leak grows with the number of requests, five times more here than in the warm-up).
  const memoryOk = after.every((a, i) => a <= before[i]! * 1.15 + 16 * 1024 * 1024);
  // A client still sending a 2 MiB body when the 413 arrives may see the connection reset instead of the
  // answer (the server stops reading); that is not a server error, so it is counted apart.
  const resets = Object.entries(report.byKind).filter(([kind]) => !kind.startsWith('huge')).reduce((n, [, statuses]) => n + (statuses['0'] ?? 0), 0);
  return {
    name: `${count.toLocaleString('en-US')} malformed requests`,
    expectation: 'zero 5xx, zero crashes, web memory back to baseline',
    passed: fiveXx === 0 && crashed === 0 && memoryOk && resets === 0,
    load: { sent: report.sent, byStatus: report.byStatus, byCode: {}, errors: report.errors, failed: 0, duplicatesAnswered: 0 },
    details: { byKind: report.byKind, fiveXx, crashed, unansweredOutsideHugeBodies: resets, rssBeforeMiB: before.map(mib), rssAfterMiB: after.map(mib), peakRssMiB: report.peakRss.map(mib) },
  };
}

const mib = (bytes: number) => Math.round((bytes / 1048576) * 10) / 10;

/** Completed jobs in the stripe-events queue: one per event handled, so a handler run twice under two job ids would show. */
async function completedJobs(redisUrl: string): Promise<number> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
  try {
    return await redis.zcard('hooklane:stripe-events:completed');
  } finally {
    redis.disconnect();
  }
}

/**
 * Webhooks dropped for a while: every web leaves HAProxy's rotation for the middle third of the load, so
 * those deliveries get 503 (from HAProxy, as from an ALB without a healthy target) and, as if the outage
 * outlasted Stripe's 3 days of retries, Stripe gives up on them: the emulator (which holds every event, as
 * Stripe would) lists them as `delivery_success=false`. Then the operator asks for a reconciliation (the
 * console's button: POST /api/admin/reconcile) and a worker recovers each of them through the dedup intake.
 */
export async function reconcileDropped(stack: Stack, scale: Scale, emulator: StripeEmulator): Promise<ScenarioResult> {
  const startedAtS = Math.floor(Date.now() / 1000);
  // Every event the load sends is first an event Stripe generated: recorded in the emulator's history. The
  // load signs in batches, so the last batch's unsent events were generated too and never delivered.
  const generated: string[] = [];
  const make: EventMaker = (count, prefix) => {
    const events = signedEvents(count, { prefix, type: 'customer.created', object: 'customer', secret: BENCH_WEBHOOK_SECRET });
    for (const e of events) emulator.events.add(JSON.parse(e.body) as Stripe.Event, { delivered: true });
    generated.push(...events.map((e) => e.id));
    return events;
  };
  const steady = new SteadyLoad({
    url: stack.url,
    rate: scale.rate,
    maxRequests: scale.rate * scale.seconds,
    maxDurationMs: scale.seconds * 1000 + 5000,
    secret: BENCH_WEBHOOK_SECRET,
    prefix: `rd${Date.now().toString(36)}`,
    make,
  });
  const webs = stack.web.map((w) => w.name);
  await pause((scale.seconds * 1000) / 3);
  const downAtMs = steady.elapsedMs;
  for (const name of webs) await stack.haproxy.setServerState(name, 'maint');
  await pause((scale.seconds * 1000) / 3);
  for (const name of webs) await stack.haproxy.setServerState(name, 'ready');
  const upAtMs = steady.elapsedMs;
  const outcomes = await steady.done;
  const summary = summarise(outcomes);
  const refused = outcomes.filter((o) => o.status < 200 || o.status >= 300).length;
  const acceptedIds = new Set(summary.accepted);
  // Refused, or never sent: Stripe retried for 3 days and gave up, the event's delivery failed.
  const dropped = generated.filter((id) => !acceptedIds.has(id));
  for (const id of dropped) emulator.events.setDelivered(id, false);
  const { processing, index, indexOk } = await verifyAccepted(stack, summary.accepted);

  const askedAt = Date.now();
  const asked = await adminCall(stack, 'POST', '/api/admin/reconcile', { since: startedAtS - 60 });
  let run: ReconcileRun | null = null;
  const runDeadline = Date.now() + 120_000;
  while (Date.now() < runDeadline) {
    const last = (await adminCall(stack, 'GET', '/api/admin/reconcile')).body as { lastRun?: ReconcileRun | null };
    if (last.lastRun && Date.parse(last.lastRun.finishedAt) >= askedAt - 1000 && last.lastRun.trigger === 'on-demand') {
      run = last.lastRun;
      break;
    }
    await pause(250);
  }
  const recovered = await verifyProcessing(stack.redis.url, dropped);
  const recoveredIndex = await verifyIndex(stack.redis.url, dropped, stack.worker.map((w) => w.logFile));
  const droppedSources = await countSources(stack.redis.url, dropped);
  const acceptedSources = await countSources(stack.redis.url, summary.accepted);
  const completed = await completedJobs(stack.redis.url);
  const handled = summary.accepted.length + dropped.length;
  const passed =
    refused > 0 &&
    Object.keys(summary.byStatus).every((status) => status === '200' || status === '503') &&
    processing.lost === 0 &&
    processing.failed === 0 &&
    indexOk &&
    asked.status === 202 &&
    run !== null &&
    run.errors === 0 &&
    run.recovered === dropped.length &&
    recovered.lost === 0 &&
    recovered.failed === 0 &&
    recoveredIndex.succeeded === dropped.length &&
    (droppedSources.reconciled ?? 0) === dropped.length &&
    (acceptedSources.webhook ?? 0) === summary.accepted.length &&
    processing.startedMoreThanOnce === 0 &&
    recovered.startedMoreThanOnce === 0 &&
    completed === handled;
  return {
    name: 'Webhooks dropped (web out of rotation), then reconciliation',
    expectation:
      'only 200 and 503 answers; every dropped event recovered by one reconciliation run, succeeded in the index with source reconciled; accepted ones stay webhook; no handler started twice; one completed job per event',
    passed,
    load: trimmed(summary),
    processing,
    index,
    details: {
      droppedForMs: Math.round(upAtMs - downAtMs),
      refused,
      neverSent: generated.length - outcomes.length,
      dropped: dropped.length,
      reconcileAnswer: asked.status,
      run: run && { listed: run.listed, recovered: run.recovered, errors: run.errors, tookMs: Date.parse(run.finishedAt) - Date.parse(run.startedAt) },
      recoveredAfterAskingMs: run ? Date.parse(run.finishedAt) - askedAt : null,
      recoveredProcessing: { processed: recovered.processed, lost: recovered.lost, failed: recovered.failed, startedTwice: recovered.startedMoreThanOnce },
      recoveredIndex: { succeeded: recoveredIndex.succeeded, notFinal: recoveredIndex.notFinal, missing: recoveredIndex.missing, lost: recoveredIndex.lost },
      sources: { dropped: droppedSources, accepted: acceptedSources },
      completedJobs: completed,
      emulator: { served: emulator.rateLimit.admitted, refused429: emulator.rateLimit.refused },
    },
  };
}
