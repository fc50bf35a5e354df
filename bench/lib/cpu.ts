import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';

/**
 * Core layout on a 2-core machine: the load generator (and Redis, which stands in for ElastiCache on
 * another host) on core 0, the process under test alone on core 1. Without taskset or with one core,
 * nothing is pinned and the report says so.
 */
export const LOADGEN_CPU = '0';
export const SERVER_CPU = '1';

const hasTaskset = spawnSync('sh', ['-c', 'command -v taskset'], { encoding: 'utf8' }).stdout.trim() !== '';

export function canPin(): boolean {
  return hasTaskset && cpus().length >= 2;
}

/** Pins every thread of this process (the load generator) to `cpu`; children inherit it. */
export function pinSelf(cpu: string): boolean {
  if (!canPin()) return false;
  return spawnSync('taskset', ['-a', '-p', '-c', cpu, String(process.pid)], { stdio: 'ignore' }).status === 0;
}

/** argv that runs `argv` on `cpu` when pinning is possible. */
export function pinned(cpu: string, argv: string[]): string[] {
  return canPin() ? ['taskset', '-c', cpu, ...argv] : argv;
}

/** Busy and total jiffies of each core so far (Linux /proc/stat; empty elsewhere). */
export function coreTimes(): Map<string, { busy: number; total: number }> {
  const times = new Map<string, { busy: number; total: number }>();
  let stat = '';
  try {
    stat = readFileSync('/proc/stat', 'utf8');
  } catch {
    return times;
  }
  for (const line of stat.split('\n')) {
    const match = /^cpu(\d+)\s+(.*)$/.exec(line);
    if (!match) continue;
    // user nice system idle iowait irq softirq steal
    const fields = match[2]!.trim().split(/\s+/).slice(0, 8).map(Number);
    const total = fields.reduce((a, b) => a + b, 0);
    times.set(match[1]!, { busy: total - fields[3]! - fields[4]!, total });
  }
  return times;
}

/** How busy `cpu` was between two coreTimes() snapshots, in percent (NaN when unknown). */
export function busyPercent(before: ReturnType<typeof coreTimes>, after: ReturnType<typeof coreTimes>, cpu: string): number {
  const a = before.get(cpu);
  const b = after.get(cpu);
  if (!a || !b || b.total === a.total) return Number.NaN;
  return (100 * (b.busy - a.busy)) / (b.total - a.total);
}
