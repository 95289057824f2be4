import { environmentsReached } from '../decisions.js';
import type { StepFailure } from '../failure.js';
import type { Deps } from '../ports.js';
import type { OutcomeRecord } from '../types.js';
import type { RollbackContext } from './normalise-rollback.js';
import type { PrepareRollbackOutput, StoppedRelease } from './prepare-rollback.js';
import { recordFailedRestore, restoreEnvironment, type FailedRestore, type RestoreDeps, type RestoreOutcome } from './restore.js';

export type RollbackInput = RollbackContext & {
  prepared: Extract<PrepareRollbackOutput, { action: 'rollback' | 'remove-canary' }>;
  /** Set by the machine's Catch when the restore itself failed: this run then records the failed rollback instead. */
  failure?: StepFailure;
};

const causeOf = (input: RollbackContext) => `${input.trigger.kind === 'alarm' ? `alarm ${input.trigger.detail}` : 'manual rollback'}: ${input.reason}`;

/**
 * The rollback machine's restore: all traffic back to the known-good version (removing a
 * canary leaves the live version serving alone), verified and recorded against the suspect.
 * A release it stopped ends here, `rolled-back` with the rollback's cause as the reason.
 */
export async function rollback(input: RollbackInput, deps: RestoreDeps): Promise<RestoreOutcome | FailedRestore> {
  if (input.failure) return recordFailedRollback(input, input.failure, deps);
  const { prepared } = input;
  const cause = causeOf(input);
  const outcome = await restoreEnvironment(
    {
      serviceName: input.service,
      service: input.serviceConfig,
      environment: input.environmentConfig,
      toVersion: prepared.toVersion,
      avoid: prepared.fromVersion,
      holder: input.executionId,
      releaseId: releaseIdFor(input),
      recordAs: { service: input.service, version: prepared.fromVersion },
      reason: cause,
      skipIfLive: true,
    },
    deps,
  );
  if (prepared.ends) {
    // Restored now, by this run or (skipped) by whatever ran before it.
    const how = outcome.rolledBack ? outcome.summary : outcome.reason;
    await endStopped(prepared.ends, input, 'rolled-back', `stopped and rolled back by ${input.executionId} (${cause}); ${how}`, 'RolledBack', deps);
  }
  return outcome;
}

/** The restore failed (the state machine caught it): the ledger, the history and a release it stopped say so. */
async function recordFailedRollback(input: RollbackInput, failure: StepFailure, deps: Pick<Deps, 'ledger' | 'clock'>): Promise<FailedRestore> {
  const { prepared } = input;
  const failed = await recordFailedRestore(
    {
      serviceName: input.service,
      environment: input.environment,
      suspect: prepared.fromVersion,
      toVersion: prepared.toVersion,
      canary: prepared.action === 'remove-canary',
      holder: input.executionId,
      recordAs: { service: input.service, version: prepared.fromVersion },
      reason: causeOf(input),
      failure,
    },
    deps,
  );
  if (prepared.ends) await endStopped(prepared.ends, input, 'failed', `stopped by ${input.executionId} (${causeOf(input)}); ${failed.summary}`, failed.error, deps, failed);
  return failed;
}

const releaseIdFor = (input: RollbackInput) => `${input.service}@${input.prepared.fromVersion}`;

async function endStopped(
  stopped: StoppedRelease,
  input: RollbackInput,
  outcome: 'rolled-back' | 'failed',
  reason: string,
  error: string,
  deps: Pick<Deps, 'ledger' | 'clock'>,
  failed?: FailedRestore,
): Promise<void> {
  const decisions = await deps.ledger.decisions(input.service, stopped.version);
  const environments = environmentsReached(decisions);
  const record: OutcomeRecord = {
    releaseId: stopped.releaseId,
    service: input.service,
    version: stopped.version,
    outcome,
    reason,
    error,
    environments,
    finishedAt: deps.clock.now().toISOString(),
    executionId: stopped.executionId,
    ...(failed ? { rollbackFailed: { environment: failed.environment, error: failed.error, summary: failed.summary, ...(failed.serving ? { serving: failed.serving } : {}) } } : {}),
  };
  await deps.ledger.recordStoppedOutcome(record);
}
