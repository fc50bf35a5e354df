/** Formatting for the console. Pure, so the views stay declarative and the rules are unit-tested. */

const counts = new Intl.NumberFormat('en-US');

export function formatCount(value: number): string {
  return counts.format(value);
}

/** A short, human duration: "<1 s", "42 s", "3 m 05 s", "2 h 07 m", "3 d 04 h". Null means "nothing". */
export function formatDuration(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return '—';
  const seconds = Math.floor(Math.max(0, ms) / 1000);
  const pad = (n: number) => String(n).padStart(2, '0');
  if (seconds < 1) return '<1 s';
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} m ${pad(seconds % 60)} s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours} h ${pad(minutes % 60)} m`;
  return `${Math.floor(hours / 24)} d ${pad(hours % 24)} h`;
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

export function formatBytes(bytes: number): string {
  let value = Math.max(0, bytes);
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(value < 10 ? 2 : 1)} ${UNITS[unit]}`;
}

/** "used of max (n %)" or "used (no limit)" when Redis has no maxmemory. */
export function formatMemory(usedBytes: number, maxBytes: number): string {
  if (!maxBytes) return `${formatBytes(usedBytes)} (no maxmemory limit)`;
  const percent = Math.min(100, (usedBytes / maxBytes) * 100);
  return `${formatBytes(usedBytes)} of ${formatBytes(maxBytes)} (${percent.toFixed(percent < 10 ? 1 : 0)} %)`;
}

/** ISO time as "2026-11-25 20:31:07 UTC": one unambiguous zone for operators in many. */
export function formatTimestamp(iso: string | null | undefined): string {
  if (!iso) return '—';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '—';
  return `${date.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** "12 s ago" relative to `nowMs`. */
export function formatAgo(iso: string | null | undefined, nowMs: number): string {
  if (!iso) return '—';
  const at = new Date(iso).getTime();
  if (Number.isNaN(at)) return '—';
  return `${formatDuration(nowMs - at)} ago`;
}

/** BullMQ progress is a number (percent) or any JSON value a processor chose. */
export function formatProgress(progress: unknown): string {
  if (typeof progress === 'number') return `${Math.round(progress)} %`;
  if (progress === null || progress === undefined || progress === '') return '—';
  return typeof progress === 'string' ? progress : JSON.stringify(progress);
}

/** A 0-100 number for a progress bar, or null when the progress is not a percentage. */
export function progressPercent(progress: unknown): number | null {
  return typeof progress === 'number' && Number.isFinite(progress) ? Math.min(100, Math.max(0, progress)) : null;
}

export function formatJson(value: unknown): string {
  if (value === undefined) return '—';
  return JSON.stringify(value, null, 2) ?? '—';
}

/** A manual retry can push attempts past the configured limit; say so rather than print "2 of 1". */
export function formatAttempts(made: number, max: number): string {
  return made <= max ? `${made} of ${max}` : `${made} (limit ${max}; retried by hand)`;
}
