import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startStack, type Stack } from '../src/dev/stack';
import { startStripeEmulator, type StripeEmulator } from '../src/dev/stripe-emulator';
import { HOOKLANE_ENV } from '../bench/lib/hooklane-env';
import { ROOT } from '../bench/lib/processes';
import { CHAOS_INDEX_BOUND_MS, CHAOS_SWEEP, type IndexReport } from './lib/verify-index';
import { malformedFlood, reconcileDropped, redisFull, redisRestart, webSigkill, webSigterm, workerSigkill, type Scale, type ScenarioResult } from './scenarios';

const say = (line: string) => process.stdout.write(`[chaos] ${line}\n`);

/**
 * The fault suite's stack: 2 web + 2 worker behind HAProxy, production config, and stalled-job recovery
 * shortened (lock 3 s, check every 1 s; production: 30 s) so a killed worker's jobs come back within the run;
 * the index sweep likewise (every 2 s, records 5 s old; production: 15 s and 30 s).
 */
export const CHAOS_ENV: Record<string, string> = {
  ...HOOKLANE_ENV,
  WORKER_LOCK_DURATION_MS: '3000',
  WORKER_STALLED_INTERVAL_MS: '1000',
  SHUTDOWN_TIMEOUT_MS: '5000',
  WORKER_SHUTDOWN_TIMEOUT_MS: '5000',
  INDEX_SWEEP_INTERVAL_MS: String(CHAOS_SWEEP.intervalMs),
  INDEX_SWEEP_AFTER_MS: String(CHAOS_SWEEP.afterMs),
};

/** Index outcome in one cell: final (succeeded + ignored / failed), lost, not final, time to converge, sweep repairs. */
function indexCell(i: IndexReport | undefined): string {
  if (!i) return '';
  const converged = i.convergedAfterMs === null ? 'never' : `${i.convergedAfterMs} ms`;
  return `${i.succeeded + i.ignored} / ${i.failed} / ${i.lost} / ${i.notFinal + i.missing} / ${converged} / ${i.repairedBySweep}`;
}

/** The Stripe API emulator's key for the fault suite's workers (the emulator accepts only this one). */
const CHAOS_STRIPE_KEY = 'sk_test_chaosemulator000001';

/**
 * A Stripe API emulator on a loopback port for one stack, and what points its workers at it (as `npm start`'s
 * dev services do, through STRIPE_API_BASE): Stripe's test-mode limit (25 requests/s, 429 above), the
 * budget's test-mode default (10/s). The workers run with NODE_ENV=development only because production
 * refuses a plain-http STRIPE_API_BASE; the webs stay production (they never call Stripe: a reconciliation
 * they are asked for runs in a worker).
 */
async function chaosStripe(): Promise<{ emulator: StripeEmulator; workerEnv: Record<string, string> }> {
  const emulator = await startStripeEmulator({ secretKey: CHAOS_STRIPE_KEY, rateLimitPerSecond: 25 });
  return { emulator, workerEnv: { NODE_ENV: 'development', STRIPE_SECRET_KEY: CHAOS_STRIPE_KEY, STRIPE_API_BASE: emulator.url } };
}

type Scenario = { key: string; run: (stack: Stack, emulator: StripeEmulator | undefined) => Promise<ScenarioResult>; stripe?: boolean };

function line(r: ScenarioResult): string {
  const p = r.processing;
  const processing = p ? ` | accepted ${p.accepted}, processed ${p.processed}, lost ${p.lost}, failed ${p.failed}, started twice ${p.startedMoreThanOnce}, stalled-recovered ${p.stalledRecovered}` : '';
  const i = r.index;
  const index = i ? ` | index: succeeded ${i.succeeded}, ignored ${i.ignored}, failed ${i.failed}, LOST ${i.lost}, not final ${i.notFinal}, missing ${i.missing}, converged after ${i.convergedAfterMs ?? 'never'} ms (bound ${CHAOS_INDEX_BOUND_MS}), repaired by sweep ${i.repairedBySweep}` : '';
  return `${r.passed ? 'PASS' : 'FAIL'} ${r.name}: sent ${r.load.sent}, statuses ${JSON.stringify(r.load.byStatus)}${Object.keys(r.load.byCode).length ? ` ${JSON.stringify(r.load.byCode)}` : ''}${Object.keys(r.load.errors).length ? `, errors ${JSON.stringify(r.load.errors)}` : ''}${processing}${index} | ${JSON.stringify(r.details)}`;
}

function markdown(results: ScenarioResult[], startedAt: string, scale: Scale): string {
  const rows = results.map((r) => {
    const p = r.processing;
    return `| ${r.name} | ${r.passed ? 'pass' : '**fail**'} | ${r.load.sent} | ${Object.entries(r.load.byStatus).map(([s, n]) => `${s}: ${n}`).join(', ')} | ${p ? `${p.accepted} / ${p.processed} / ${p.lost} / ${p.startedMoreThanOnce}` : ''} | ${indexCell(r.index)} | ${Object.entries(r.details).map(([k, v]) => `${k}: ${JSON.stringify(v)}`).join('; ')} |`;
  });
  return [
    `Fault suite run ${startedAt}: 2 web + 2 worker behind HAProxy, steady load ${scale.rate} req/s for ${scale.seconds} s per scenario (unique signed events, loopback only).`,
    '',
    '| Scenario | result | requests | answers | accepted / processed / lost / started twice | index: final / failed / lost / not final / converged / repaired by sweep | details |',
    '| --- | --- | ---: | --- | --- | --- | --- |',
    ...rows,
    '',
    `Index: once BullMQ had finished every accepted event's job, each record must be final within the stated bound (${CHAOS_INDEX_BOUND_MS} ms with INDEX_SWEEP_AFTER_MS=${CHAOS_SWEEP.afterMs}, INDEX_SWEEP_INTERVAL_MS=${CHAOS_SWEEP.intervalMs}); any lost event fails the scenario. "Repaired by sweep" counts records whose worker's status write was lost.`,
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { quick: { type: 'boolean' }, only: { type: 'string' } } });
  const scale: Scale = values.quick ? { rate: 100, seconds: 4 } : { rate: 300, seconds: 10 };
  const malformedCount = values.quick ? 2000 : 10_000;
  const scenarios: Scenario[] = [
    { key: 'worker-sigkill', run: (s) => workerSigkill(s, scale) },
    { key: 'web-sigterm', run: (s) => webSigterm(s, scale) },
    { key: 'web-sigkill', run: (s) => webSigkill(s, scale) },
    { key: 'redis-restart', run: (s) => redisRestart(s, scale) },
    { key: 'malformed', run: (s) => malformedFlood(s, malformedCount) },
    { key: 'redis-full', run: (s) => redisFull(s, scale) },
    { key: 'reconcile-dropped', run: (s, emulator) => reconcileDropped(s, scale, emulator!), stripe: true },
  ];
  const only = values.only ? new Set(values.only.split(',')) : undefined;
  const startedAt = new Date().toISOString();
  say(`load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const results: ScenarioResult[] = [];
  for (const scenario of scenarios.filter((s) => !only || only.has(s.key))) {
    say(`${scenario.key}: starting a fresh stack (2 web, 2 worker, Redis with AOF, HAProxy)...`);
    const stripe = scenario.stripe ? await chaosStripe() : undefined;
    const stack = await startStack({ web: 2, worker: 2, env: CHAOS_ENV, respawn: true, ...(stripe ? { workerEnv: stripe.workerEnv } : {}) });
    try {
      const result = await scenario.run(stack, stripe?.emulator);
      results.push(result);
      say(line(result));
    } catch (err) {
      say(`FAIL ${scenario.key}: ${err instanceof Error ? err.stack : String(err)} (logs in ${stack.dir}/logs)`);
      results.push({ name: scenario.key, passed: false, expectation: 'ran', load: { sent: 0, byStatus: {}, byCode: {}, errors: {}, failed: 0, duplicatesAnswered: 0 }, details: { error: String(err) } });
    } finally {
      await stack.stop();
      await stripe?.emulator.stop();
    }
  }
  const md = markdown(results, startedAt, scale);
  const dir = path.join(ROOT, 'bench', 'results');
  // A run of some scenarios (--only) keeps its own files: chaos-latest stays the whole suite's.
  const name = `${values.quick ? 'chaos-quick' : 'chaos'}${values.only ? `-only-${[...only!].join('+')}` : ''}`;
  const json = `${JSON.stringify({ startedAt, finishedAt: new Date().toISOString(), scale, malformedCount, env: CHAOS_ENV, results }, null, 2)}\n`;
  mkdirSync(dir, { recursive: true });
  const bases = values.quick ? [`${name}-latest`] : [`${name}-${startedAt.replace(/[:.]/g, '-')}`, `${name}-latest`];
  for (const base of bases) {
    writeFileSync(path.join(dir, `${base}.json`), json);
    writeFileSync(path.join(dir, `${base}.md`), md);
  }
  process.stdout.write(`\n${md}`);
  process.exit(results.every((r) => r.passed) ? 0 : 1);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`[chaos] failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  });
}
