import type { FieldIssue } from './errors.js';
import { fieldPath } from './validation.js';

/**
 * Reads the fields of a parsed JSON document for the hand-written validators of documents
 * CI uploads (lambdas/lib/manifest.ts). Not zod: the steps that read them also hold the S3
 * client, and zod's ~95 KB pushed their bundles past the 500 KB budget (bench/RESULTS.md).
 *
 * Every problem is collected as a `FieldIssue` in the style of validation.ts (the field, what
 * it should be, what it is). On a problem a read returns a placeholder (`''`, `0`, `[]`), so a
 * caller builds its typed result as if all were well and discards it when `issues` is not empty.
 */

export type FieldPath = readonly (string | number)[];

/** A check on a string, and what a valid value looks like (for the message). */
export interface Rule {
  test: (value: string) => boolean;
  expect: string;
}

const shown = (v: unknown): string => {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return JSON.stringify(v.length > 80 ? `${v.slice(0, 80)}…` : v);
  return String(v);
};

const ANY_STRING: Rule = { test: () => true, expect: 'a string' };

const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

/** The fields of the JSON object at `path`, or undefined (with an issue) when `value` is not one. */
export function fieldsOf(value: unknown, path: FieldPath, issues: FieldIssue[]): Fields | undefined {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) return new Fields(value as Record<string, unknown>, path, issues);
  issues.push({ field: fieldPath(path), problem: `expected a JSON object, got ${value === undefined ? 'nothing' : shown(value)}` });
  return undefined;
}

export class Fields {
  constructor(
    private readonly obj: Record<string, unknown>,
    private readonly path: FieldPath,
    private readonly issues: FieldIssue[],
  ) {}

  private wrong(key: string, expected: string, got: unknown): void {
    this.issues.push({ field: fieldPath([...this.path, key]), problem: got === undefined ? `is required (${expected})` : `expected ${expected}, got ${shown(got)}` });
  }

  text(key: string, rule: Rule = ANY_STRING): string {
    if (this.obj[key] === undefined) {
      this.wrong(key, rule.expect, undefined);
      return '';
    }
    return this.optionalText(key, rule) ?? '';
  }

  optionalText(key: string, rule: Rule = ANY_STRING): string | undefined {
    const v = this.obj[key];
    if (v === undefined) return undefined;
    if (typeof v === 'string' && rule.test(v)) return v;
    this.wrong(key, rule.expect, v);
    return undefined;
  }

  /** A whole number, 0 or more. */
  count(key: string, what: string): number {
    if (this.obj[key] === undefined) {
      this.wrong(key, what, undefined);
      return 0;
    }
    return this.optionalCount(key, what) ?? 0;
  }

  optionalCount(key: string, what: string): number | undefined {
    const v = this.obj[key];
    if (v === undefined || isCount(v)) return v;
    this.wrong(key, what, v);
    return undefined;
  }

  /** A JSON array of `what`; with `ifEmpty`, an empty one is a problem that `ifEmpty` explains. */
  list(key: string, what: string, ifEmpty?: string): unknown[] {
    const v = this.obj[key];
    if (!Array.isArray(v)) {
      this.wrong(key, `a list of ${what}`, v);
      return [];
    }
    if (v.length === 0 && ifEmpty) this.issues.push({ field: fieldPath([...this.path, key]), problem: `is empty: ${ifEmpty}` });
    return v;
  }
}
