import { readFileSync, writeFileSync } from 'node:fs';

/** Replaces one script's marked section of bench/RESULTS.md (or appends it), leaving the others. */
export function writeResultsSection(path: string, start: string, end: string, section: string): void {
  let existing = '';
  try {
    existing = readFileSync(path, 'utf8');
  } catch {
    existing = '# Benchmarks\n\nEach section is written by the script it names; rerun it to refresh the section.\n';
  }
  const from = existing.indexOf(start);
  const to = existing.indexOf(end);
  const next = from >= 0 && to > from ? existing.slice(0, from) + section + existing.slice(to + end.length) : `${existing.trimEnd()}\n\n${section}\n`;
  writeFileSync(path, next);
}
