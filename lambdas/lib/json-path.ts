/**
 * The small JSONPath subset smoke checks use: `$`, `.name`, `['name']`, `[index]`.
 * Returns `undefined` when the path does not resolve.
 */
export function evaluatePath(path: string, doc: unknown): unknown {
  if (!path.startsWith('$')) throw new Error(`JSONPath must start with "$": ${path}`);
  const tokens = path.slice(1).match(/\.[A-Za-z_$][\w$-]*|\[\d+\]|\['[^']*'\]|\["[^"]*"\]/g) ?? [];
  if (tokens.join('') !== path.slice(1)) throw new Error(`unsupported JSONPath ${path}: use $.a.b, $.a[0] or $['a b']`);
  let current: unknown = doc;
  for (const token of tokens) {
    if (current === null || typeof current !== 'object') return undefined;
    const key = token.startsWith('.') ? token.slice(1) : token.startsWith('[\'') || token.startsWith('["') ? token.slice(2, -2) : Number(token.slice(1, -1));
    current = (current as Record<string | number, unknown>)[key];
  }
  return current;
}

/** Deep equality for JSON values. */
export function jsonEquals(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  return ka.length === kb.length && ka.every((k) => jsonEquals((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}
