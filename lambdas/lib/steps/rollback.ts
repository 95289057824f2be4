import type { RollbackContext } from './normalise-rollback.js';
import { restoreEnvironment, type RestoreDeps, type RestoreOutcome } from './restore.js';

export type RollbackInput = RollbackContext & { prepared: { fromVersion: string; toVersion: string } };

/** The rollback machine's restore: all traffic back to the known-good version, verified and recorded. */
export async function rollback(input: RollbackInput, deps: RestoreDeps): Promise<RestoreOutcome> {
  const by = input.trigger.kind === 'alarm' ? `alarm ${input.trigger.detail}` : 'manual rollback';
  return restoreEnvironment(
    {
      serviceName: input.service,
      service: input.serviceConfig,
      environment: input.environmentConfig,
      toVersion: input.prepared.toVersion,
      avoid: input.prepared.fromVersion,
      holder: input.executionId,
      releaseId: `${input.service}@${input.prepared.fromVersion}`,
      recordAs: { service: input.service, version: input.prepared.fromVersion },
      reason: `${by}: ${input.reason}`,
      skipIfLive: true,
    },
    deps,
  );
}
