import { environmentsReached } from '../decisions.js';
import { errorMessage } from '../errors.js';
import { describeFailure, type StepFailure } from '../failure.js';
import type { Deps } from '../ports.js';
import { notesSummary, type ReleaseNotes } from '../release-notes.js';
import { loadReleaseNotes } from '../release-notes-source.js';
import { writeReleaseReport } from '../report/write.js';
import type { Decision, OutcomeRecord, ReleaseOutcome, ReleaseRequest } from '../types.js';
import { describeRestore } from './restore.js';

export interface RecordOutcomeInput {
  releaseId: string;
  executionId: string;
  release: ReleaseRequest;
  plan: { name: string }[];
  failure?: StepFailure;
}

export interface RecordOutcomeOutput {
  outcome: ReleaseOutcome;
  reason: string;
  environments: string[];
  /** The release report's S3 URI (`reports/<service>/<version>.html` in the artifacts bucket), for the outcome's event; null when it could not be written. */
  report: string | null;
  /** The release notes in counts only (release-notes.ts notesSummary: safe in a notification line); the report lists them. */
  notes: { count: number; summary: string };
}

/** Step 7: the release's outcome, written once, with why; then its report, which never fails the outcome. */
export async function recordOutcome(input: RecordOutcomeInput, deps: Pick<Deps, 'ledger' | 'clock' | 'store' | 'locations' | 'log'>): Promise<RecordOutcomeOutput> {
  const { release } = input;
  const decisions = await deps.ledger.decisions(release.service, release.version);
  const reached = environmentsReached(decisions);
  const restores = decisions.filter((d) => d.step === 'rollback' && d.verdict === 'done');
  const rolledBack = restores.map((d) => d.environment!);
  // A compensation that itself failed, as the machine recorded it (restore.ts recordFailedRestore): where, why, what serves there now.
  const failedRollback = (d: Decision): d is Decision & { evidence: { error: string; serving?: string } } =>
    d.step === 'rollback' && d.verdict === 'failed' && typeof (d.evidence as { error?: unknown } | undefined)?.error === 'string';
  const rollbackFailed = input.failure ? decisions.filter(failedRollback).at(-1) : undefined;

  let outcome: ReleaseOutcome = 'succeeded';
  // A dot release passes by environments that run a newer line (hotfix-order.ts): say so, and say it when that was every one.
  const passedBy = [...new Set(decisions.filter((d) => d.verdict === 'skipped' && d.environment).map((d) => d.environment!))].filter((e) => !reached.includes(e));
  const by = passedBy.length ? `passed by ${passedBy.join(', ')}, which run a newer line` : '';
  let reason = reached.length
    ? `${release.version} is live in ${reached.join(', ')}${by ? `; ${by}` : ''}`
    : by
      ? `${release.version} was deployed nowhere: ${by}, and no environment it is for was in this release's plan`
      : `${release.version} is live in (no environment)`;
  let error: string | undefined;
  if (input.failure) {
    const f = describeFailure(input.failure);
    error = f.error;
    outcome = rolledBack.length > 0 ? 'rolled-back' : 'failed';
    reason = outcome === 'rolled-back' ? `${f.error} in ${rolledBack.join(', ')}: ${f.message}; ${restores.map((d) => restoredAs(d, release.version)).join('; ')}` : `${f.error}: ${f.message}`;
    if (rollbackFailed) reason += `; and the rollback failed: ${rollbackFailed.summary}`;
  }
  const record: OutcomeRecord = {
    releaseId: input.releaseId,
    service: release.service,
    version: release.version,
    outcome,
    reason,
    ...(error ? { error } : {}),
    environments: reached,
    finishedAt: deps.clock.now().toISOString(),
    executionId: input.executionId,
    ...(rollbackFailed
      ? {
          rollbackFailed: {
            environment: rollbackFailed.environment!,
            error: rollbackFailed.evidence.error,
            summary: rollbackFailed.summary,
            ...(typeof rollbackFailed.evidence.serving === 'string' ? { serving: rollbackFailed.evidence.serving } : {}),
          },
        }
      : {}),
  };
  await deps.ledger.recordOutcome(record);
  const notes = await notesOf(deps, release.service, release.version, input.plan.map((p) => p.name));
  const report = await writeReleaseReport(deps, release.service, release.version, notes);
  return { outcome, reason, environments: reached, report, notes: { count: notes?.changes.length ?? 0, summary: notes ? notesSummary(notes) : 'no changes listed' } };
}

/** The notes since the previous known-good version of the plan's last environment; like the report, they never fail the outcome. */
async function notesOf(deps: Pick<Deps, 'ledger' | 'store' | 'locations' | 'log'>, service: string, version: string, plan: string[]): Promise<ReleaseNotes | undefined> {
  try {
    return await loadReleaseNotes({ ledger: deps.ledger, store: deps.store, artifactsBucket: deps.locations.artifactsBucket }, service, version, { plan });
  } catch (err) {
    deps.log?.warn('release notes not made; the outcome is recorded', { service, version, reason: errorMessage(err) });
    return undefined;
  }
}

/** What a compensation did, from its evidence (restore.ts): "canary v1.2.0 removed from prod at 10%; all traffic on v1.0.0", or "rolled staging back from v1.1.0 to v1.0.0". */
function restoredAs(d: Decision, suspect: string): string {
  const e = d.evidence as { from?: string | null; canary?: { version: string; weight: number }; to?: unknown } | undefined;
  if (typeof e?.to !== 'string') return `${d.environment} rolled back`;
  return describeRestore({ environment: d.environment!, live: e.from, canary: e.canary, to: e.to, suspect });
}
