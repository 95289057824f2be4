import type { DriftReport } from '../../lambdas/lib/drift.js';
import { dim, green, red, yellow } from './progress.js';

/** `tagflow drift`: each drifted environment with both sides, what was skipped and why, and a summary. */
export function driftLines(report: DriftReport): string[] {
  const lines: string[] = [];
  for (const d of report.drifted) {
    lines.push(red(`✗ ${d.service} ${d.environment} drifted: the ledger has ${d.expected}; it serves ${d.actual}`));
    for (const why of d.differences) lines.push(`    ${why}`);
  }
  for (const s of report.skipped) lines.push(yellow(`• ${s.service} ${s.environment} not checked: ${s.why}`));
  const summary = `${report.checked} environment(s) checked, ${report.drifted.length} drifted${report.skipped.length ? `, ${report.skipped.length} not checked` : ''}`;
  lines.push(report.drifted.length ? red(summary) : report.checked ? green(`✓ ${summary}: what serves is what the ledger says`) : dim(summary));
  return lines;
}
