import { formatJson } from '../logic/format';

/** Pretty JSON in a scrollable, focusable block (keyboard users can scroll it too). */
export function JsonBlock({ value, label }: { value: unknown; label: string }) {
  return (
    <pre class="code-block" tabIndex={0} aria-label={label}>
      {formatJson(value)}
    </pre>
  );
}

export function LinesBlock({ lines, label, empty }: { lines: string[]; label: string; empty: string }) {
  if (lines.length === 0) return <p class="muted">{empty}</p>;
  return (
    <pre class="code-block" tabIndex={0} aria-label={label}>
      {lines.join('\n')}
    </pre>
  );
}
