import { ReleaseLocked, VersionRegression } from '../errors.js';
import { compareVersions } from '../version-order.js';
import type { Deps } from '../ports.js';
import { reconcile, type ReconcileDeps } from '../reconcile.js';

export interface LockInput {
  service: string;
  environment: string;
  executionId: string;
  /** A rollback takes the lock over from the release execution it stopped. */
  takeOverFrom?: string | null;
  /**
   * The release taking the lock (never a rollback, which goes back on purpose): once the lock is
   * held its version may not take the environment back from a newer one another release
   * deployed while this one waited (the policy step's regression check ran before the wait); an
   * emergency release overrides that, as it does in the policy step.
   */
  release?: { version: string; emergency?: unknown } | null;
}

/**
 * With `executions` (the local runtime), a lock's holder is checked: one that no longer runs
 * is reconciled (its canary removed, its locks released, its outcome recorded) and the lock
 * taken. In AWS the steps have no `executions`: the reconciler rule frees a dead holder's
 * locks within seconds, and the state machine waits at least the lock's TTL.
 */
export type LockDeps = Pick<Deps, 'ledger' | 'clock' | 'lockTtlMs'> & Partial<Pick<Deps, 'executions'> & ReconcileDeps>;

/** Takes the environment lock; `ReleaseLocked` (which the state machine retries, within a bound) when another execution holds it. */
export async function acquireLock(input: LockInput, deps: LockDeps): Promise<{ holder: string; expiresAt: string }> {
  const attempt = () => deps.ledger.acquireLock(input.service, input.environment, input.executionId, deps.clock.now().getTime(), deps.lockTtlMs, input.takeOverFrom ?? undefined);
  let result = await attempt();
  let holderStatus = '';
  if (!result.acquired && deps.executions) {
    const status = await deps.executions.status(result.holder);
    if (status && status !== 'RUNNING' && deps.targets && deps.events && deps.log) {
      await reconcile({ executionArn: result.holder, status: status === 'SUCCEEDED' ? 'FAILED' : status, stoppedAt: deps.clock.now().toISOString(), error: 'HolderGone', cause: `found dead (${status}) holding the lock of ${input.environment} by ${input.executionId}` }, deps as ReconcileDeps & typeof deps);
      result = await attempt();
    }
    holderStatus = status ? `, which is ${status === 'RUNNING' ? 'running' : `not running (${status})`}` : '';
  }
  if (!result.acquired) {
    throw new ReleaseLocked(
      `${input.environment} of ${input.service} is locked by ${result.holder}${holderStatus} until ${new Date(result.expiresAt).toISOString()}; this release waits for it, then gives up`,
    );
  }
  const release = input.release;
  if (release && !release.emergency) {
    const serving = (await deps.ledger.getEnvironment(input.service, input.environment))?.version;
    if (serving && compareVersions(serving, release.version) > 0) {
      await deps.ledger.releaseLock(input.service, input.environment, input.executionId);
      throw new VersionRegression(`${input.environment} of ${input.service} runs ${serving}, deployed while this release waited for its lock; ${release.version} would take it back, so nothing was deployed (an emergency release overrides this)`);
    }
  }
  const now = deps.clock.now().getTime();
  return { holder: input.executionId, expiresAt: new Date(now + deps.lockTtlMs).toISOString() };
}

export async function releaseLock(input: LockInput, deps: Pick<Deps, 'ledger'>): Promise<{ released: true }> {
  await deps.ledger.releaseLock(input.service, input.environment, input.executionId);
  return { released: true };
}
