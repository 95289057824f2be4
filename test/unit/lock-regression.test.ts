import { describe, expect, it } from 'vitest';
import { acquireLock } from '../../lambdas/lib/steps/lock.js';

/**
 * The policy step checks for a version regression before the lock wait; once the lock is held the
 * release checks again, so an older release that waited behind a newer one never takes an
 * environment back from it (issue 15).
 */

function world(serving: string | undefined) {
  const released: string[] = [];
  const ledger = {
    acquireLock: async () => ({ acquired: true, state: {} }),
    getEnvironment: async () => (serving ? { version: serving } : undefined),
    releaseLock: async (_s: string, _e: string, holder: string) => void released.push(holder),
  };
  const deps = { ledger, clock: { now: () => new Date('2026-11-30T12:00:00Z'), sleep: async () => {} }, lockTtlMs: 60_000 } as never;
  return { deps, released };
}
const input = { service: 'api', environment: 'prod', executionId: 'exec-old' };

describe('the lock, taken by a release', () => {
  it('refuses, releasing the lock, when a newer version was deployed while it waited', async () => {
    const w = world('v1.1.2');
    await expect(acquireLock({ ...input, release: { version: 'v1.1.1' } }, w.deps)).rejects.toMatchObject({ name: 'VersionRegression', message: expect.stringContaining('prod of api runs v1.1.2, deployed while this release waited for its lock; v1.1.1 would take it back') });
    expect(w.released).toEqual(['exec-old']);
  });

  it('takes it over the same or an older version, for an emergency, and for a rollback (no release)', async () => {
    for (const [serving, release] of [['v1.1.1', { version: 'v1.1.1' }], ['v1.0.0', { version: 'v1.1.1' }], [undefined, { version: 'v1.1.1' }], ['v1.1.2', { version: 'v1.1.1', emergency: { reason: 'outage' } }], ['v1.1.2', undefined]] as const) {
      const w = world(serving);
      await expect(acquireLock({ ...input, ...(release ? { release } : {}) }, w.deps)).resolves.toMatchObject({ holder: 'exec-old' });
      expect(w.released).toEqual([]);
    }
  });
});
