import type { EnvironmentConfig } from '../config.js';
import { decide, withGood } from '../decisions.js';
import { LockLost } from '../errors.js';
import type { Deps } from '../ports.js';
import type { ReleaseRequest } from '../types.js';

export interface RecordStageInput {
  releaseId: string;
  executionId: string;
  release: ReleaseRequest;
  environment: Pick<EnvironmentConfig, 'name'>;
}

/** Step 6e: the environment passed its checks on this version: it is now known-good there. */
export async function recordStage(input: RecordStageInput, deps: Pick<Deps, 'ledger' | 'clock'>): Promise<{ environment: string; version: string; previousGood?: string }> {
  const { release } = input;
  const env = input.environment.name;
  const state = await deps.ledger.getEnvironment(release.service, env);
  if (!state || state.version !== release.version) throw new LockLost(`${env} of ${release.service} no longer serves ${release.version} (it serves ${state?.version ?? 'nothing'})`);
  const previousGood = state.goodVersions.find((v) => v !== release.version);
  await deps.ledger.putEnvironment(
    // A known-good release is a known state again: any drift mark goes.
    { ...state, healthy: true, goodVersions: withGood(state.goodVersions, release.version), lastOutcome: 'succeeded', lastReleaseId: input.releaseId, updatedAt: deps.clock.now().toISOString(), ...(state.drift ? { drift: null } : {}) },
    input.executionId,
  );
  await decide(deps, release, {
    step: 'record-stage',
    environment: env,
    verdict: 'passed',
    summary: `${env} runs ${release.version}, known-good${previousGood ? ` (previous known-good: ${previousGood})` : ''}`,
  });
  return { environment: env, version: release.version, ...(previousGood ? { previousGood } : {}) };
}
