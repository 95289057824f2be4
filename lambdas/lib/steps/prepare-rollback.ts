import { decide } from '../decisions.js';
import { InvalidInput } from '../errors.js';
import { MANUAL_ROLLBACK_EXAMPLE } from '../rollback-example.js';
import type { Deps } from '../ports.js';
import type { RollbackContext } from './normalise-rollback.js';

export type PrepareRollbackOutput =
  | { action: 'rollback'; fromVersion: string; toVersion: string; stopExecution: string | null }
  | { action: 'nothing'; reason: string };

const isReleaseExecution = (arn: string) => /:execution:[^:]*release[^:]*:/.test(arn);

/**
 * Decides what a rollback does before it touches anything: which version is bad, which
 * known-good version to return to, whether an alarm's flap already started this rollback,
 * and which running release (if any) must be stopped first.
 */
export async function prepareRollback(ctx: RollbackContext, deps: Pick<Deps, 'ledger' | 'clock'>): Promise<PrepareRollbackOutput> {
  const state = await deps.ledger.getEnvironment(ctx.service, ctx.environment);
  const current = state?.version;
  const nothing = async (reason: string): Promise<PrepareRollbackOutput> => {
    if (current) await decide(deps, { service: ctx.service, version: current }, { step: 'rollback', environment: ctx.environment, verdict: 'skipped', summary: `nothing to roll back: ${reason}`, evidence: { trigger: ctx.trigger, cause: ctx.reason } });
    return { action: 'nothing', reason };
  };
  if (!state || !current) return nothing(`${ctx.environment} of ${ctx.service} has never been deployed`);

  let toVersion: string | undefined;
  if (ctx.toVersion) {
    if (!state.goodVersions.includes(ctx.toVersion)) {
      throw new InvalidInput(
        [{ field: 'toVersion', problem: `${ctx.toVersion} has not succeeded in ${ctx.environment} before; known-good versions there: ${state.goodVersions.join(', ') || '(none)'}` }],
        MANUAL_ROLLBACK_EXAMPLE,
      );
    }
    if (ctx.toVersion === current && state.healthy) return nothing(`${ctx.environment} already serves ${current}`);
    toVersion = ctx.toVersion;
  } else {
    // An environment that a rollback put on its version is already on known-good: an alarm
    // that flaps again must not walk it further back.
    if (state.lastOutcome === 'rolled-back' && state.healthy) return nothing(`${ctx.environment} already serves ${current}, restored by an earlier rollback`);
    toVersion = state.goodVersions.find((v) => v !== current);
    if (!toVersion) return nothing(`no known-good version of ${ctx.service} other than ${current} in ${ctx.environment}`);
  }

  if (ctx.trigger.kind === 'alarm') {
    const claim = await deps.ledger.claimRollback(ctx.service, ctx.environment, current, ctx.executionId, deps.clock.now().toISOString());
    if (!claim.claimed) return { action: 'nothing', reason: `rollback of ${current} in ${ctx.environment} already started by ${claim.by} at ${claim.at}` };
  }
  const holder = state.lockHolder && (state.lockExpiresAt ?? 0) > deps.clock.now().getTime() ? state.lockHolder : undefined;
  return { action: 'rollback', fromVersion: current, toVersion, stopExecution: holder && holder !== ctx.executionId && isReleaseExecution(holder) ? holder : null };
}
