import type { EnvironmentConfig, ServiceConfig } from '../config.js';
import { describeFailure, type StepFailure } from '../failure.js';
import type { ReleaseRequest } from '../types.js';
import { recordFailedRestore, restoreEnvironment, type FailedRestore, type RestoreDeps, type RestoreOutcome } from './restore.js';

export interface RollbackStageInput {
  releaseId: string;
  executionId: string;
  release: ReleaseRequest;
  service: ServiceConfig;
  environment: EnvironmentConfig;
  failure: StepFailure;
  /** Set by the machine's Catch when this compensation itself failed: this run then records the failed rollback instead. */
  rollbackFailure?: StepFailure;
}

/** Compensation inside a release: the environment this release broke goes back to its known-good version. */
export async function rollbackStage(input: RollbackStageInput, deps: RestoreDeps): Promise<RestoreOutcome | FailedRestore> {
  const failure = describeFailure(input.failure);
  const reason = `${failure.error}: ${failure.message}`;
  if (input.rollbackFailure) {
    // What it meant to return to: the known-good version it would have picked, as the ledger still has them.
    const state = await deps.ledger.getEnvironment(input.release.service, input.environment.name);
    const to = state?.goodVersions.find((v) => v !== input.release.version);
    return recordFailedRestore(
      {
        serviceName: input.release.service,
        environment: input.environment.name,
        suspect: input.release.version,
        ...(to ? { toVersion: to } : {}),
        holder: input.executionId,
        recordAs: input.release,
        reason,
        failure: input.rollbackFailure,
      },
      deps,
    );
  }
  return restoreEnvironment(
    {
      serviceName: input.release.service,
      service: input.service,
      environment: input.environment,
      avoid: input.release.version,
      holder: input.executionId,
      releaseId: input.releaseId,
      recordAs: input.release,
      reason,
    },
    deps,
  );
}
