import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { DrainRow } from '../scenarios/drain';
import type { EndToEndRow } from '../scenarios/end-to-end';
import type { HttpRow } from '../scenarios/http';
import type { DedupIdsRow } from '../scenarios/dedup-ids';
import type { MemoryRow } from '../scenarios/memory';
import type { ReconcileRow } from '../scenarios/reconcile-recovery';
import type { ThinBudgetRow } from '../scenarios/thin-budget';
import { TRACING_ROWS } from '../scenarios/tracing';
import type { FairnessRow } from '../scenarios/ordering';
import { round } from './stats';

export interface BenchResults {
  startedAt: string;
  finishedAt: string;
  command: string;
  machine: { cpus: number; node: string; loadBefore: number[]; loadAfter: number[]; pinned: boolean; layout: string };
  plan: Record<string, unknown>;
  http: HttpRow[];
  drain: DrainRow[];
  endToEnd: EndToEndRow[];
  memory?: MemoryRow;
  dedupIds?: DedupIdsRow;
  /** 5 workers fetching thin events through the shared budget, the emulator answering 429 above its limit. */
  thinBudget?: ThinBudgetRow;
  /** Undelivered events recovered by reconciliation at the default test-mode budget. */
  reconcile?: ReconcileRow;
  /** The commit the tracing rows' "tracing absent" side was built from. */
  tracingBaseline?: string;
  /** Per-account fairness (bench/scenarios/ordering.ts): the quiet account's latency behind a noisy backlog. */
  fairness?: FairnessRow[];
  targets: Target[];
}

/** Row names the targets look up. */
export const SNAPSHOT_INTAKE_ROW = 'hooklane intake (fast path)';
export const THIN_INTAKE_ROW = 'hooklane intake, thin notifications (fast path)';
export const THIN_E2E_ROW = 'hooklane web + worker, thin events (full event fetched through the emulator)';

export interface Target {
  what: string;
  target: string;
  measured: string;
  met: boolean | null;
}

const num = (n: number | undefined, digits = 0) => (n === undefined || Number.isNaN(n) ? 'n/a' : round(n, digits).toLocaleString('en-US'));

function ratio(a: number | undefined, b: number | undefined): number | undefined {
  return a !== undefined && b ? a / b : undefined;
}

export function targetsOf(r: Pick<BenchResults, 'http' | 'drain' | 'endToEnd' | 'memory' | 'dedupIds' | 'thinBudget' | 'reconcile' | 'fairness'>): Target[] {
  const row = (name: string) => r.http.find((h) => h.name === name);
  const drain = (name: string) => r.drain.find((d) => d.name === name)?.jobsPerS;
  const intake = row(SNAPSHOT_INTAKE_ROW);
  const targets: Target[] = [];
  const add = (what: string, target: string, value: number | undefined, ok: (v: number) => boolean, unit = '×', digits = 3) =>
    targets.push({ what, target, measured: value === undefined ? 'n/a' : `${round(value, digits)}${unit}`, met: value === undefined ? null : ok(value) });
  if (intake) {
    add('intake / bare Express GET', '≥ 1.5×', ratio(intake.rps, row('bare Express 5 GET')?.rps), (v) => v >= 1.5);
    add('intake / plain-way intake', '≥ 2.5×', ratio(intake.rps, row('plain-way intake (express.raw + constructEvent + queue.add)')?.rps), (v) => v >= 2.5);
    add('intake p99 at 50 connections', '≤ 20 ms', intake.p99, (v) => v <= 20, ' ms', 0);
    add('intake Redis CPU per webhook', '≤ 20 µs', intake.redisCpuUs, (v) => v <= 20, ' µs', 0);
  }
  for (const mode of r.drain.length ? ['in-process', 'sandboxed (thread)'] : []) {
    add(`hooklane worker / bare BullMQ Worker, ${mode}`, '≥ 0.9×', ratio(drain(`hooklane worker, ${mode}`), drain(`bare BullMQ Worker, ${mode}`)), (v) => v >= 0.9);
  }
  const orderingOff = drain('hooklane worker, ordering off, sandboxed (thread), customer.created');
  if (orderingOff !== undefined) {
    add('ordering on, distinct objects / ordering off', '≥ 0.9×', ratio(drain('hooklane worker, ordering on, distinct objects, sandboxed (thread), customer.created'), orderingOff), (v) => v >= 0.9);
    add('ordering on, 10 % sharing objects / ordering off', '≥ 0.8×', ratio(drain('hooklane worker, ordering on, 10 % sharing objects, sandboxed (thread), customer.created'), orderingOff), (v) => v >= 0.8);
  }
  const fair = r.fairness?.find((f) => f.name.startsWith('fairness on'));
  if (fair) add(`quiet account p99 behind ${fair.noisyEvents.toLocaleString('en-US')} noisy events (fairness on)`, '≤ 250 ms', fair.quietP99, (v) => v <= 250, ' ms', 0);
  const e2e = r.endToEnd.find((e) => e.name.startsWith('hooklane') && e.name !== THIN_E2E_ROW);
  if (e2e) add(`end-to-end p99 at ${e2e.rate} req/s`, '≤ 25 ms', e2e.p99, (v) => v <= 25, ' ms', 0);
  // Tracing off must cost nothing measurable: within 3 % of the build without it, rate and CPU alike.
  const off = row(TRACING_ROWS.intakeOff);
  const absent = row(TRACING_ROWS.intakeAbsent);
  if (off && absent) {
    add('intake, tracing off / tracing absent (req/s)', '≥ 0.97×', ratio(off.rps, absent.rps), (v) => v >= 0.97);
    add('intake, tracing off / tracing absent (server CPU per request)', '≤ 1.03×', ratio(off.serverCpuUs, absent.serverCpuUs), (v) => v <= 1.03);
  }
  const drainOff = drain(TRACING_ROWS.drainOff);
  if (drainOff !== undefined) add('drain (thread sandbox), tracing off / tracing absent', '≥ 0.97×', ratio(drainOff, drain(TRACING_ROWS.drainAbsent)), (v) => v >= 0.97);
  if (r.memory) add('Redis memory growth over the last step (retention applied)', '≈ 0 %', r.memory.lastStepGrowth * 100, (v) => v <= 5, ' %', 1);
  if (r.memory) add('Redis bytes per retained event with its payload', '≤ 1,500 B', r.memory.bytesPerRetainedEvent, (v) => v <= 1500, ' B', 0);
  if (r.dedupIds) {
    const d = r.dedupIds;
    add(`Redis bytes per remembered event id (${num(d.ids)} ids, ${d.windowHours} h window)`, '≤ 48 B', d.allRecognised ? d.bytesPerId : undefined, (v) => v <= 48, ' B', 1);
  }
  const thin = row(THIN_INTAKE_ROW);
  if (thin) {
    // A thin notification is verified twice (stripe-node's constructEvent refuses it after checking the
    // signature; parseEventNotification checks it again) and is a second body shape: half the snapshot rate at least.
    add('thin notification intake / snapshot intake (fast path)', '≥ 0.5×', ratio(thin.rps, row(SNAPSHOT_INTAKE_ROW)?.rps), (v) => v >= 0.5);
    add('thin notification intake p99 at 50 connections', '≤ 20 ms', thin.p99, (v) => v <= 20, ' ms', 0);
  }
  const thinE2e = r.endToEnd.find((e) => e.name === THIN_E2E_ROW);
  if (thinE2e) {
    add(`thin events end-to-end p99 at ${thinE2e.rate} req/s (fetch included)`, '≤ 50 ms', thinE2e.p99, (v) => v <= 50, ' ms', 0);
    add('thin events not completed', '0', thinE2e.notCompleted, (v) => v === 0, '', 0);
  }
  const b = r.thinBudget;
  if (b) {
    add(`thin budget (${b.workers} workers × ${num(b.events / b.workers)}): events failed or unfinished`, '0', b.failed + b.unfinished, (v) => v === 0, '', 0);
    add('thin budget: Stripe API budget used', '≥ 90 %', b.budgetUsedPercent, (v) => v >= 90, ' %', 1);
    add(`thin budget: most requests the emulator served in 1 s (limit ${b.limitPerSecond})`, `≤ ${b.limitPerSecond}`, b.emulatorPeakPerSecond, (v) => v <= b.limitPerSecond, '', 0);
    add('thin budget: requests above the emulator\'s limit (429)', '0', b.emulator429, (v) => v === 0, '', 0);
  }
  const rc = r.reconcile;
  if (rc) {
    targets.push({
      what: `reconciliation: ${num(rc.events)} undelivered events recovered, each once (recovered / jobs / recovered by a second run)`,
      target: `${num(rc.events)} / ${num(rc.events)} / 0`,
      measured: `${num(rc.recovered)} / ${num(rc.jobs)} / ${rc.secondRunRecovered}`,
      met: rc.recovered === rc.events && rc.jobs === rc.events && rc.moved === rc.events && rc.secondRunRecovered === 0,
    });
    add(`reconciliation: time to recover ${num(rc.events)} at ${rc.limitPerSecond} requests/s`, '≤ 60 s', rc.seconds, (v) => v <= 60, ' s', 1);
  }
  return targets;
}

export function markdown(r: BenchResults): string {
  const lines: string[] = [];
  const express = r.http.find((h) => h.name === 'bare Express 5 GET')?.rps;
  lines.push(`Run ${r.startedAt} (load average before ${r.machine.loadBefore.map((l) => l.toFixed(2)).join(' ')}), ${r.machine.cpus} cores, Node ${r.machine.node}; ${r.machine.layout}.`);
  lines.push('');
  if (r.http.length) {
    lines.push('| HTTP, 50 connections (median of runs) | req/s | × Express GET | p50 ms | p99 ms | errors | non-2xx | server CPU µs/req | Redis CPU µs/req | core busy % (load gen / server) |');
    lines.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const h of r.http) {
      const busy = Number.isFinite(h.loadgenCoreBusy) ? `${num(h.loadgenCoreBusy)} / ${num(h.serverCoreBusy)}` : '';
      lines.push(`| ${h.name} | ${num(h.rps)} | ${num(ratio(h.rps, express), 2)} | ${num(h.p50)} | ${num(h.p99)} | ${h.errors} | ${h.non2xx} | ${num(h.serverCpuUs)} | ${h.redisCpuUs ? num(h.redisCpuUs) : ''} | ${busy} |`);
    }
    lines.push('');
  }
  if (r.drain.length) {
    lines.push('| Worker drain (no-op events, concurrency 10) | jobs/s (median) | runs (bare and hooklane interleaved) | failed | worker CPU µs/job | Redis CPU µs/job |');
    lines.push('| --- | ---: | --- | ---: | ---: | ---: |');
    for (const d of r.drain) {
      lines.push(`| ${d.name} | ${num(d.jobsPerS)} | ${d.reps.map((x) => num(x)).join(', ')} | ${d.failed} | ${num(d.workerCpuUs)} | ${num(d.redisCpuUs)} |`);
    }
    lines.push('');
  }
  if (r.endToEnd.length) {
    lines.push('| End to end: webhook received → handler completed | rate | events | p50 | p99 | max | queue wait p50 / p99 | processing p50 / p99 | not completed | HTTP p99 |');
    lines.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const e of r.endToEnd) {
      lines.push(`| ${e.name} | ${e.rate}/s | ${e.events} | ${num(e.p50)} ms | ${num(e.p99)} ms | ${num(e.max)} ms | ${num(e.waitP50)} / ${num(e.waitP99)} ms | ${num(e.processP50)} / ${num(e.processP99)} ms | ${e.notCompleted} | ${num(e.http.p99)} ms |`);
    }
    lines.push('');
  }
  if (r.fairness?.length) {
    lines.push('| Fairness: one noisy account\'s backlog, one quiet account (an event every 20 ms) | noisy events | drained in | quiet events | quiet p50 | quiet p99 | quiet max | bound (2 × step + concurrency jobs) |');
    lines.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const f of r.fairness) {
      lines.push(`| ${f.name} | ${num(f.noisyEvents)} | ${num(f.drainS, 1)} s | ${f.quietEvents} | ${num(f.quietP50)} ms | ${num(f.quietP99)} ms | ${num(f.quietMax)} ms | ${num(f.boundMs)} ms |`);
    }
    lines.push('');
  }
  if (r.memory) {
    const m = r.memory;
    lines.push(`| Redis memory (${Object.entries(m.retention).map(([k, v]) => `${k}=${v}`).join(', ') || 'default retention'}) | used_memory | keys | retained completed jobs |`);
    lines.push('| --- | ---: | ---: | ---: |');
    lines.push(`| empty (baseline) | ${num(m.baselineBytes / 1048576, 1)} MiB | | |`);
    for (const p of m.points) lines.push(`| after ${num(p.events)} events | ${num(p.usedBytes / 1048576, 1)} MiB | ${num(p.keys)} | ${num(p.retainedJobs)} |`);
    lines.push(`| bytes per retained event | ${num(m.bytesPerRetainedEvent)} | | |`);
    lines.push('');
    if (m.parts?.length) {
      lines.push('| Where it is, at the last point (MEMORY USAGE by kind of key) | bytes per retained event |');
      lines.push('| --- | ---: |');
      for (const p of m.parts.slice(0, 12)) lines.push(`| \`${p.kind}\` | ${num(p.bytesPerRetainedEvent)} |`);
      lines.push('');
    }
  }
  if (r.dedupIds) {
    const d = r.dedupIds;
    lines.push(`| Dedup window (${d.windowHours} h, ids created evenly over it) | used_memory | keys | bytes per id | every id recognised again | buckets not listpack (sampled) |`);
    lines.push('| --- | ---: | ---: | ---: | --- | ---: |');
    lines.push(`| empty (baseline) | ${num(d.baselineBytes / 1048576, 1)} MiB | | | | |`);
    lines.push(`| ${num(d.ids)} ids | ${num(d.usedBytes / 1048576, 1)} MiB | ${num(d.keys)} | ${num(d.bytesPerId, 1)} | ${d.allRecognised ? 'yes' : '**no**'} | ${d.nonListpackBuckets} of ${d.sampledBuckets} |`);
    lines.push('');
  }
  if (r.thinBudget) {
    const b = r.thinBudget;
    lines.push('| Shared Stripe API budget: workers × thin events, the emulator answering 429 above its limit | limit/s | processed | failed | unfinished | 429s | served | peak served in 1 s | seconds | budget used | mean request ms | mean wait ms |');
    lines.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    lines.push(`| ${b.workers} × ${num(b.events / b.workers)} (${Object.entries(b.statuses).map(([k, v]) => `${k} ${v}`).join(', ')}) | ${b.limitPerSecond} | ${num(b.processed)} | ${b.failed} | ${b.unfinished} | ${b.emulator429} | ${num(b.emulatorServed)} | ${b.emulatorPeakPerSecond} | ${num(b.seconds, 1)} | ${num(b.budgetUsedPercent, 1)} % | ${b.meanRequestMs} | ${b.meanWaitMs} |`);
    lines.push('');
  }
  if (r.reconcile) {
    const c = r.reconcile;
    lines.push('| Reconciliation: undelivered events recovered | budget/s | listed | recovered | seconds | second run recovered | moved / jobs | requests | 429s |');
    lines.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    lines.push(`| ${num(c.events)} | ${c.limitPerSecond} | ${num(c.listed)} | ${num(c.recovered)} | ${num(c.seconds, 1)} | ${c.secondRunRecovered} | ${num(c.moved)} / ${num(c.jobs)} | ${c.requests} | ${c.emulator429} |`);
    lines.push('');
  }
  if (r.targets.length) {
    lines.push('| Target | wanted | measured | met |');
    lines.push('| --- | --- | ---: | --- |');
    for (const t of r.targets) lines.push(`| ${t.what} | ${t.target} | ${t.measured} | ${t.met === null ? 'n/a' : t.met ? 'yes' : '**no**'} |`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Writes `<name>-<stamp>.json|md` and `<name>-latest.json|md` under `dir` (quick runs only the latter:
 * they are for checking the harness, not for keeping); returns the markdown.
 */
export function writeResults(dir: string, r: BenchResults, name = 'bench', keep = true): string {
  const md = markdown(r);
  const stamp = r.startedAt.replace(/[:.]/g, '-');
  mkdirSync(dir, { recursive: true });
  for (const base of keep ? [`${name}-${stamp}`, `${name}-latest`] : [`${name}-latest`]) {
    writeFileSync(path.join(dir, `${base}.json`), `${JSON.stringify(r, null, 2)}\n`);
    writeFileSync(path.join(dir, `${base}.md`), md);
  }
  return md;
}
