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

/** "a string", "the number 123", "null": what a person sent, for "expected …, got …". */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  return `the ${typeof value} ${String(value)}`;
}

const ARTICLE: Record<string, string> = { string: 'a string', number: 'a number', boolean: 'true or false', object: 'an object', array: 'a list', int: 'a whole number' };

/** zod's default wording ("Invalid input: expected number, received string") as a person says it. */
function problemOf(issue: z.core.$ZodIssue): string {
  const input = (issue as { input?: unknown }).input;
  // Parsed with `reportInput`, a wrong value comes with the issue; a missing one is undefined (JSON has no undefined).
  const given = input !== undefined;
  const custom = !issue.message.startsWith('Invalid input') && !/^Too (small|big)/.test(issue.message);
  if (issue.code === 'invalid_type') {
    const expected = custom ? issue.message : `expected ${ARTICLE[issue.expected] ?? issue.expected}`;
    return given ? `${expected}; got ${describeValue(input)}` : `is required (${expected})`;
  }
  if ((issue.code === 'too_small' || issue.code === 'too_big') && !custom && (issue.origin === 'number' || issue.origin === 'int')) {
    const bound = `${issue.code === 'too_small' ? (issue.inclusive ? 'at least' : 'more than') : issue.inclusive ? 'at most' : 'less than'} ${String(issue.code === 'too_small' ? issue.minimum : issue.maximum)}`;
    return `expected a number ${bound}${given ? `; got ${String(input)}` : ''}`;
  }
  if (issue.code === 'invalid_value' && !custom) return `expected ${issue.values.map((v) => JSON.stringify(v)).join(' or ')}${given ? `; got ${describeValue(input)}` : ''}`;
  if (issue.code === 'invalid_key') return `${fieldPath(issue.path.slice(-1))} is not a valid name here: ${issue.issues.map((i) => i.message).join("; ")}`;
  return issue.message.replace(/^Invalid input: /, '');
}

/**
 * Of a union's alternatives, the one the document meant: not one whose literal `type` differs
 * (the document chose another), then the one with the fewest issues.
 */
function likeliestBranch(branches: readonly (readonly z.core.$ZodIssue[])[]): readonly z.core.$ZodIssue[] {
  const chose = (b: readonly z.core.$ZodIssue[]) => !b.some((i) => i.code === 'invalid_value' && i.path.length === 1 && i.path[0] === 'type');
  const candidates = branches.filter(chose).length ? branches.filter(chose) : branches;
  return [...candidates].sort((a, b) => a.length - b.length)[0] ?? [];
}

/** Union issues replaced by the issues of the alternative the document meant, paths made whole. */
function flatten(issues: readonly z.core.$ZodIssue[], prefix: readonly PropertyKey[] = []): z.core.$ZodIssue[] {
  return issues.flatMap((issue) => {
    const path = [...prefix, ...issue.path];
    if (issue.code === 'invalid_union' && issue.errors.length > 0) return flatten(likeliestBranch(issue.errors), path);
    return [{ ...issue, path } as z.core.$ZodIssue];
  });
}

/**
 * Turns zod issues into messages that name the field, say why, and suggest the fix. Parse with
 * `{ reportInput: true }` so a wrong value is told from a missing one ("got the number 123"
 * rather than "is required").
 */
export function describeIssues(
  error: z.ZodError,
  knownKeysAt: (path: readonly PropertyKey[]) => readonly string[] = () => [],
): FieldIssue[] {
  const issues: FieldIssue[] = [];
  for (const issue of flatten(error.issues)) {
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
    issues.push({ field: fieldPath(issue.path), problem: problemOf(issue) });
  }
  // An unknown field is usually the cause of a "required" one (a typo): name it first.
  return [...issues.filter((i) => i.problem.startsWith('unknown field')), ...issues.filter((i) => !i.problem.startsWith('unknown field'))];
}
