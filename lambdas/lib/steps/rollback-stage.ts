import type { EnvironmentConfig, ServiceConfig } from '../config.js';
import { describeFailure, type StepFailure } from '../failure.js';
import type { ReleaseRequest } from '../types.js';
import { restoreEnvironment, type RestoreDeps, type RestoreOutcome } from './restore.js';

export interface RollbackStageInput {
  releaseId: string;
  executionId: string;
  release: ReleaseRequest;
  service: ServiceConfig;
  environment: EnvironmentConfig;
  failure: StepFailure;
}

/** Compensation inside a release: the environment this release broke goes back to its known-good version. */
export async function rollbackStage(input: RollbackStageInput, deps: RestoreDeps): Promise<RestoreOutcome> {
  const failure = describeFailure(input.failure);
  return restoreEnvironment(
    {
      serviceName: input.release.service,
      service: input.service,
      environment: input.environment,
      avoid: input.release.version,
      holder: input.executionId,
      releaseId: input.releaseId,
      recordAs: input.release,
      reason: `${failure.error}: ${failure.message}`,
    },
    deps,
  );
}
