import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import type { BenchRedis } from '../lib/bench-redis';
import { BENCH_BUILD, ROOT } from '../lib/processes';
import { median } from '../lib/stats';
import { benchDrainSideBySide, type DrainRow, type Fill } from './drain';
import { benchIntake, type HttpPlan, type HttpRow } from './http';

/**
 * Tracing's cost when it is off (no OTLP endpoint): this build against the commit before tracing came in, side
 * by side, on the same Redis. The baseline is built once per commit into build/bench/baseline-<sha>/dist, with
 * this checkout's node_modules.
 */

/** The commit before src/telemetry/ existed: the parent of the commit that added it. */
export function commitBeforeTracing(): string {
  const added = execFileSync('git', ['log', '--diff-filter=A', '--format=%H', '--', 'src/telemetry/tracing.ts'], { cwd: ROOT, encoding: 'utf8' })
    .trim()
    .split('\n')
    .pop();
  if (!added) throw new Error('no commit adds src/telemetry/tracing.ts: pass --tracing-baseline <ref>');
  return `${added}^`;
}

/** Builds `ref`'s src/ (tsc only: the web and worker entry points) and answers its dist/ directory. */
export function buildBaseline(ref: string): { dist: string; sha: string } {
  const sha = execFileSync('git', ['rev-parse', '--verify', `${ref}^{commit}`], { cwd: ROOT, encoding: 'utf8' }).trim();
  const dir = path.join(BENCH_BUILD, `baseline-${sha.slice(0, 12)}`);
  const dist = path.join(dir, 'dist');
  if (!existsSync(path.join(dist, 'web', 'main.js'))) {
    mkdirSync(dir, { recursive: true });
    execFileSync('sh', ['-c', `git archive ${sha} src tsconfig.json tsconfig.build.json package.json | tar -x -C '${dir}'`], { cwd: ROOT });
    if (!existsSync(path.join(dir, 'node_modules'))) symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
    execFileSync(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', path.join(dir, 'tsconfig.build.json')], { cwd: dir, stdio: 'inherit' });
  }
  return { dist, sha };
}

export interface TracingRows {
  baseline: string;
  http: HttpRow[];
  drain: DrainRow[];
}

export const TRACING_ROWS = {
  intakeAbsent: 'hooklane intake (fast path), tracing absent (commit before tracing)',
  intakeOff: 'hooklane intake (fast path), tracing off (no endpoint)',
  drainAbsent: 'hooklane worker, sandboxed (thread), tracing absent (commit before tracing)',
  drainOff: 'hooklane worker, sandboxed (thread), tracing off (no endpoint)',
} as const;

/**
 * Intake: the two webs alternate run by run (A B, B A, ...), each run its own process with its own warm-up, so
 * a slow stretch of the shared machine falls on both. Drain: benchDrainSideBySide's interleaving.
 */
export async function benchTracingOff(
  ref: string,
  env: Record<string, string>,
  redis: BenchRedis,
  plan: HttpPlan,
  drainPlan: { jobs: number; reps: number; concurrency: number },
  fill: Fill,
): Promise<TracingRows> {
  const { dist, sha } = buildBaseline(ref);
  const webs = [
    { name: TRACING_ROWS.intakeAbsent, script: path.join(dist, 'web', 'main.js') },
    { name: TRACING_ROWS.intakeOff, script: path.join(ROOT, 'dist', 'web', 'main.js') },
  ];
  const runs: HttpRow[][] = [[], []];
  for (let i = 0; i < plan.reps; i += 1) {
    const order = i % 2 === 0 ? [0, 1] : [1, 0];
    for (const k of order) runs[k]!.push(await benchIntake(webs[k]!.name, webs[k]!.script, env, redis, { ...plan, reps: 1 }));
  }
  const http = runs.map((rows, k) => combine(webs[k]!.name, rows));
  const workers = [
    { name: TRACING_ROWS.drainAbsent, script: path.join(dist, 'worker', 'main.js'), env: { ...env, WORKER_SANDBOX: 'thread' } },
    { name: TRACING_ROWS.drainOff, script: path.join(ROOT, 'dist', 'worker', 'main.js'), env: { ...env, WORKER_SANDBOX: 'thread' } },
  ];
  const drain = await benchDrainSideBySide(workers, redis, drainPlan, 'stripe-events', 'hooklane', fill);
  return { baseline: sha, http, drain };
}

/** One row of several one-run rows: medians, as summarise() makes them. */
function combine(name: string, rows: HttpRow[]): HttpRow {
  const reps = rows.flatMap((r) => r.reps);
  const med = (pick: (r: HttpRow['reps'][number]) => number) => median(reps.map(pick));
  return {
    name,
    rps: med((r) => r.rps),
    serverCpuUs: med((r) => r.serverCpuUs),
    redisCpuUs: med((r) => r.redisCpuUs),
    loadgenCoreBusy: med((r) => r.loadgenCoreBusy),
    serverCoreBusy: med((r) => r.serverCoreBusy),
    p50: med((r) => r.p50),
    p99: med((r) => r.p99),
    errors: rows.reduce((n, r) => n + r.errors, 0),
    non2xx: rows.reduce((n, r) => n + r.non2xx, 0),
    total: rows.reduce((n, r) => n + r.total, 0),
    reps,
    signedOnTheFly: rows.reduce((n, r) => n + (r.signedOnTheFly ?? 0), 0),
  };
}
