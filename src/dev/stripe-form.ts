/**
 * Parses Stripe's request encoding (application/x-www-form-urlencoded with bracket notation, the same in
 * query strings): `scope[type]=user`, `expand[]=payload`, `expand[0]=payload`.
 */
export function parseStripeForm(encoded: string): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const [rawKey, value] of new URLSearchParams(encoded)) {
    const [head, ...path] = keyPath(rawKey);
    if (!head) continue;
    assign(root, head, path, value);
  }
  return root;
}

function keyPath(key: string): string[] {
  const match = /^([^[\]]+)((?:\[[^[\]]*\])*)$/.exec(key);
  if (!match) return [key];
  const rest = [...match[2]!.matchAll(/\[([^[\]]*)\]/g)].map((m) => m[1]!);
  return [match[1]!, ...rest];
}

function assign(target: Record<string, unknown> | unknown[], key: string, path: string[], value: string): void {
  const isList = Array.isArray(target);
  if (path.length === 0) {
    if (isList) target.push(value);
    else target[key] = value;
    return;
  }
  const [next, ...rest] = path as [string, ...string[]];
  const wantsList = next === '' || /^\d+$/.test(next);
  const container = isList ? undefined : target[key];
  const child = (container ?? (wantsList ? [] : {})) as Record<string, unknown> | unknown[];
  if (!isList) target[key] = child;
  else target.push(child);
  assign(child, next, rest, value);
}
