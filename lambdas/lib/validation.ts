import type * as z from 'zod';
import type { FieldIssue } from './errors.js';

/** A key as a person can read it: plain names as they are, anything else quoted and cut short. */
const readableKey = (key: string) => (/^[\w$-]{1,64}$/.test(key) ? key : JSON.stringify(key.length > 40 ? `${key.slice(0, 40)}…` : key));

/** `a.b[2].c` from a zod issue path. */
export function fieldPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${readableKey(String(part))}` : readableKey(String(part));
  }
  return out || '(input)';
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}

/** The known key closest to a mistyped one, if it is close enough to be a typo. */
export function closest(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const k of known) {
    const d = editDistance(key.toLowerCase(), k.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  return bestDistance <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined;
}

/** Turns zod issues into messages that name the field, say why, and suggest the fix. */
export function describeIssues(
  error: z.ZodError,
  knownKeysAt: (path: readonly PropertyKey[]) => readonly string[] = () => [],
): FieldIssue[] {
  const issues: FieldIssue[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      const known = knownKeysAt(issue.path);
      for (const key of issue.keys) {
        const guess = closest(key, known);
        issues.push({
          field: fieldPath([...issue.path, key]),
          problem: guess
            ? `unknown field; did you mean "${guess}"?`
            : `unknown field; allowed fields here: ${known.join(', ') || '(none)'}`,
        });
      }
      continue;
    }
    const received = (issue as { input?: unknown }).input;
    const problem =
      issue.code === 'invalid_type' && received === undefined ? `is required (${issue.message.replace(/^Invalid input: /, '')})` : issue.message;
    issues.push({ field: fieldPath(issue.path), problem });
  }
  // An unknown field is usually the cause of a "required" one (a typo): name it first.
  return [...issues.filter((i) => i.problem.startsWith('unknown field')), ...issues.filter((i) => !i.problem.startsWith('unknown field'))];
}
