import { describeFailure, type StepFailure } from '../failure.js';
import type { Deps } from '../ports.js';
import type { Decision, OutcomeRecord, ReleaseOutcome, ReleaseRequest } from '../types.js';

export interface RecordOutcomeInput {
  releaseId: string;
  executionId: string;
  release: ReleaseRequest;
  plan: { name: string }[];
  failure?: StepFailure;
}

/** Step 7: the release's outcome, written once, with why. */
export async function recordOutcome(input: RecordOutcomeInput, deps: Pick<Deps, 'ledger' | 'clock'>): Promise<{ outcome: ReleaseOutcome; reason: string; environments: string[] }> {
  const { release } = input;
  const decisions = await deps.ledger.decisions(release.service, release.version);
  const reached = [...new Set(decisions.filter((d) => d.step === 'record-stage' && d.verdict === 'passed').map((d) => d.environment!))];
  const rolledBack = decisions.filter((d) => d.step === 'rollback' && d.verdict === 'done').map((d) => d.environment!);
  // A compensation that itself failed, as the machine recorded it (restore.ts recordFailedRestore): where, why, what serves there now.
  const failedRollback = (d: Decision): d is Decision & { evidence: { error: string; serving?: string } } =>
    d.step === 'rollback' && d.verdict === 'failed' && typeof (d.evidence as { error?: unknown } | undefined)?.error === 'string';
  const rollbackFailed = input.failure ? decisions.filter(failedRollback).at(-1) : undefined;

  let outcome: ReleaseOutcome = 'succeeded';
  let reason = `${release.version} is live in ${reached.join(', ') || '(no environment)'}`;
  let error: string | undefined;
  if (input.failure) {
    const f = describeFailure(input.failure);
    error = f.error;
    outcome = rolledBack.length > 0 ? 'rolled-back' : 'failed';
    reason = outcome === 'rolled-back' ? `${f.error} in ${rolledBack.join(', ')}: ${f.message}; rolled back` : `${f.error}: ${f.message}`;
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
  return { outcome, reason, environments: reached };
}
