import { ReleaseLocked } from '../errors.js';
import type { Deps } from '../ports.js';

export interface LockInput {
  service: string;
  environment: string;
  executionId: string;
  /** A rollback takes the lock over from the release execution it stopped. */
  takeOverFrom?: string | null;
}

/** Takes the environment lock; `ReleaseLocked` (which the state machine retries, within a bound) when another execution holds it. */
export async function acquireLock(input: LockInput, deps: Pick<Deps, 'ledger' | 'clock' | 'lockTtlMs'>): Promise<{ holder: string; expiresAt: string }> {
  const now = deps.clock.now().getTime();
  const result = await deps.ledger.acquireLock(input.service, input.environment, input.executionId, now, deps.lockTtlMs, input.takeOverFrom ?? undefined);
  if (!result.acquired) {
    throw new ReleaseLocked(
      `${input.environment} of ${input.service} is locked by ${result.holder} until ${new Date(result.expiresAt).toISOString()}; this release waits for it, then gives up`,
    );
  }
  return { holder: input.executionId, expiresAt: new Date(now + deps.lockTtlMs).toISOString() };
}

export async function releaseLock(input: LockInput, deps: Pick<Deps, 'ledger'>): Promise<{ released: true }> {
  await deps.ledger.releaseLock(input.service, input.environment, input.executionId);
  return { released: true };
}
