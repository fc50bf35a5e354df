import { spawnSync } from 'node:child_process';
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
