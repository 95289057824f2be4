import type { PipelineConfig } from '../../lambdas/lib/config.js';
import { acknowledgeDrift, type AcknowledgeFlags } from '../../lambdas/lib/drift-acknowledge.js';
import type { DriftReport } from '../../lambdas/lib/drift.js';
import type { Ledger } from '../../lambdas/lib/ports.js';
import { recordDrift, type DriftRecord, type RecordDriftDeps } from '../../lambdas/lib/steps/detect-drift.js';
import { dim, green, red, yellow } from './progress.js';

/**
 * `tagflow drift --record`: what the scheduled check does with a report (lambdas/lib/steps/detect-drift.ts),
 * from the command: marks each new drift in the ledger and puts `Drift Detected`, clears the
 * marks of environments that agree again. Returns the lines to print after the report's.
 */
export async function recordDriftLines(config: PipelineConfig, report: DriftReport, deps: RecordDriftDeps): Promise<string[]> {
  return describeRecord(await recordDrift(config, report, deps));
}

export function describeRecord(r: DriftRecord): string[] {
  const lines: string[] = [];
  for (const m of r.marked) lines.push(red(`⚑ ${m.service} ${m.environment} marked drifted and Drift Detected put: releases there are refused until acknowledged (tagflow drift --acknowledge --service ${m.service} --environment ${m.environment} --reason "…")`));
  for (const k of r.known) lines.push(dim(`• ${k.service} ${k.environment} already marked with this drift: nothing written`));
  for (const c of r.cleared) lines.push(green(`✓ ${c.service} ${c.environment} agrees with the ledger again: drift mark cleared`));
  // Skips the report already printed (locks, unreadable targets) are not repeated.
  for (const s of r.skipped.filter((s) => s.why.includes('next check'))) lines.push(yellow(`• ${s.service} ${s.environment} not recorded: ${s.why}`));
  return lines;
}

/**
 * `tagflow drift --acknowledge --service S --environment E --reason TEXT`, locally: accepts the
 * marked drift as the OS user (`actor`), so releases go there again. A bad flag, or nothing to
 * acknowledge, throws DriftAcknowledgeError (print its message, exit 2).
 */
export async function acknowledgeDriftLines(ledger: Pick<Ledger, 'getEnvironment' | 'markDrift'>, config: PipelineConfig, flags: AcknowledgeFlags, now: Date, actor: string): Promise<string[]> {
  const mark = await acknowledgeDrift(ledger, config, flags, now, actor);
  const ack = mark.acknowledged!;
  return [green(`✓ acknowledged the drift of ${flags.service} ${flags.environment} (the ledger has ${mark.expected}; it serves ${mark.actual}) as ${ack.by} at ${ack.at}: ${ack.reason}`), dim('  releases go there again; a release or rollback that succeeds there clears the mark')];
}
