import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../lambdas/lib/config.js';
import type { Ledger } from '../../lambdas/lib/ports.js';
import type { RollbackContext } from '../../lambdas/lib/steps/normalise-rollback.js';
import { prepareRollback } from '../../lambdas/lib/steps/prepare-rollback.js';
import type { Decision, EnvironmentState, OutcomeRecord, ReleaseRecord } from '../../lambdas/lib/types.js';

/**
 * What a rollback decides from the ledger alone: the suspect is the version that changed last
 * (a canary before the live version), never a version that was healthy before the change; when
 * the ledger cannot tell, it refuses and says what it knows.
 */

const config = parseConfig({ services: { api: { environments: [{ name: 'prod', alarms: ['api-prod-errors'] }] } } });
const NOW = new Date('2026-12-01T10:00:00Z');
const RELEASE_ARN = (v: string) => `arn:aws:states:us-east-1:111122223333:execution:tagflow-release:${v}-run`;
const SELF = 'arn:aws:states:us-east-1:111122223333:execution:tagflow-rollback:rb-1';

function ledgerWith(state: EnvironmentState | undefined, releases: Partial<ReleaseRecord>[] = [], outcomes: Partial<OutcomeRecord>[] = []) {
  const decisions: Decision[] = [];
  const claims = new Map<string, string>();
  const ledger = {
    getEnvironment: async () => state,
    getRelease: async (_s: string, v: string) => releases.find((r) => r.version === v) as ReleaseRecord | undefined,
    getOutcome: async (_s: string, v: string) => outcomes.find((o) => o.version === v) as OutcomeRecord | undefined,
    releases: async () => releases.map((r) => ({ release: r as ReleaseRecord })),
    recordDecision: async (d: Decision) => void decisions.push(d),
    claimRollback: async (_s: string, _e: string, from: string, executionId: string, at: string) => {
      const by = claims.get(from);
      if (by && by !== executionId) return { claimed: false as const, by, at };
      claims.set(from, executionId);
      return { claimed: true as const };
    },
  } as unknown as Ledger;
  return { deps: { ledger, clock: { now: () => NOW, sleep: async () => {} }, locations: { artifactsBucket: 'artifacts', environmentsBucket: 'environments' }, store: { get: async () => undefined, stream: async () => undefined } }, decisions };
}

const env = (s: Partial<EnvironmentState>): EnvironmentState => ({ service: 'api', environment: 'prod', healthy: true, goodVersions: [], refs: {}, revision: 7, ...s });
const canary = (version: string, weight = 10) => ({ version, ref: version, weight, stepIndex: 0, stepStartedAt: '2026-12-01T09:50:00Z', polls: 1 });
const lockedBy = (arn: string) => ({ lockHolder: arn, lockExpiresAt: NOW.getTime() + 3_600_000 });
const release = (version: string) => ({ releaseId: `api@${version}`, service: 'api', version, executionId: RELEASE_ARN(version), startedAt: '2026-12-01T09:00:00Z' });

function ctx(over: Partial<RollbackContext> = {}): RollbackContext {
  const service = config.services.api!;
  return {
    service: 'api',
    environment: 'prod',
    reason: 'alarm api-prod-errors in ALARM',
    trigger: { kind: 'alarm', detail: 'api-prod-errors' },
    executionId: SELF,
    serviceConfig: service,
    environmentConfig: service.environments[0]!,
    ...over,
  } as RollbackContext;
}

describe('prepare-rollback', () => {
  it('removes a canary beside the only known-good version, stopping its release (prod v2.3.0, v2.4.0 at 10%)', async () => {
    const { deps } = ledgerWith(env({ version: 'v2.3.0', goodVersions: ['v2.3.0'], canary: canary('v2.4.0'), ...lockedBy(RELEASE_ARN('v2.4.0')) }), [release('v2.3.0'), release('v2.4.0')]);
    expect(await prepareRollback(ctx(), deps)).toEqual({
      action: 'remove-canary',
      fromVersion: 'v2.4.0',
      toVersion: 'v2.3.0',
      stopExecution: RELEASE_ARN('v2.4.0'),
      ends: { releaseId: 'api@v2.4.0', version: 'v2.4.0', executionId: RELEASE_ARN('v2.4.0') },
    });
  });

  it('keeps the healthy live version and blames the canary, not the version before it (prod v2.4.0 after v2.3.0, v2.4.1 canarying)', async () => {
    const { deps } = ledgerWith(env({ version: 'v2.4.0', goodVersions: ['v2.4.0', 'v2.3.0'], canary: canary('v2.4.1'), ...lockedBy(RELEASE_ARN('v2.4.1')) }), [release('v2.4.0'), release('v2.4.1')]);
    expect(await prepareRollback(ctx(), deps)).toMatchObject({ action: 'remove-canary', fromVersion: 'v2.4.1', toVersion: 'v2.4.0', stopExecution: RELEASE_ARN('v2.4.1') });
  });

  it('removes a canary whose release is gone (no live lock), without stopping anything or ending a release it did not stop', async () => {
    const { deps } = ledgerWith(env({ version: 'v2.4.0', goodVersions: ['v2.4.0', 'v2.3.0'], canary: canary('v2.4.1', 50) }), [release('v2.4.1')]);
    expect(await prepareRollback(ctx(), deps)).toEqual({ action: 'remove-canary', fromVersion: 'v2.4.1', toVersion: 'v2.4.0', stopExecution: null, ends: null });
  });

  it('claims the canary once: the alarm flapping during the canary starts one removal', async () => {
    const { deps } = ledgerWith(env({ version: 'v2.4.0', goodVersions: ['v2.4.0'], canary: canary('v2.4.1'), ...lockedBy(RELEASE_ARN('v2.4.1')) }), [release('v2.4.1')]);
    expect(await prepareRollback(ctx(), deps)).toMatchObject({ action: 'remove-canary' });
    const again = await prepareRollback(ctx({ executionId: `${SELF}-again` }), deps);
    expect(again).toMatchObject({ action: 'nothing' });
    expect((again as { reason: string }).reason).toContain(`removal of canary v2.4.1 from prod already started by ${SELF}`);
  });

  it('during a deploy, the release\'s own version is the suspect and the release is stopped', async () => {
    const { deps } = ledgerWith(env({ version: 'v2.4.1', healthy: false, goodVersions: ['v2.4.0', 'v2.3.0'], ...lockedBy(RELEASE_ARN('v2.4.1')) }), [release('v2.4.1')]);
    expect(await prepareRollback(ctx({ trigger: { kind: 'manual' }, reason: 'errors' }), deps)).toEqual({
      action: 'rollback',
      fromVersion: 'v2.4.1',
      toVersion: 'v2.4.0',
      stopExecution: RELEASE_ARN('v2.4.1'),
      ends: { releaseId: 'api@v2.4.1', version: 'v2.4.1', executionId: RELEASE_ARN('v2.4.1') },
    });
  });

  it('refuses, saying what it knows, when a release holds the lock but the ledger records no change of traffic by it', async () => {
    const { deps, decisions } = ledgerWith(env({ version: 'v2.4.0', goodVersions: ['v2.4.0', 'v2.3.0'], ...lockedBy(RELEASE_ARN('v2.5.0')) }), [release('v2.4.0'), release('v2.5.0')]);
    const r = await prepareRollback(ctx(), deps);
    expect(r).toMatchObject({ action: 'refuse', error: 'RollbackRefused' });
    const reason = (r as { reason: string }).reason;
    expect(reason).toContain(`release of v2.5.0 (${RELEASE_ARN('v2.5.0')}) holds prod`);
    expect(reason).toContain('records no change of traffic by it there (live v2.4.0, healthy, no canary)');
    expect(reason).toContain('cannot tell whether v2.4.0 or v2.5.0 is bad');
    expect(decisions.map((d) => [d.version, d.step, d.verdict])).toEqual([['v2.4.0', 'rollback', 'skipped']]);
  });

  it('refuses when the canary is not the running release\'s version', async () => {
    const { deps } = ledgerWith(env({ version: 'v2.4.0', goodVersions: ['v2.4.0'], canary: canary('v2.4.1'), ...lockedBy(RELEASE_ARN('v2.4.0')) }), [{ ...release('v2.4.0') }, { ...release('v2.4.1'), executionId: 'arn:aws:states:us-east-1:111122223333:execution:tagflow-release:dead' }]);
    const r = await prepareRollback(ctx(), deps);
    expect(r).toMatchObject({ action: 'refuse' });
    expect((r as { reason: string }).reason).toContain('canary v2.4.1 (10%)');
  });

  it('after a release, rolls the live version back to the known-good one before it (no canary, no release running)', async () => {
    const { deps } = ledgerWith(env({ version: 'v2.4.0', goodVersions: ['v2.4.0', 'v2.3.0'], lastOutcome: 'succeeded' }), [release('v2.4.0')], [{ version: 'v2.4.0', outcome: 'succeeded' }]);
    expect(await prepareRollback(ctx(), deps)).toEqual({ action: 'rollback', fromVersion: 'v2.4.0', toVersion: 'v2.3.0', stopExecution: null, ends: null });
  });

  it('finds nothing to roll back when only the live version ever succeeded there, naming it', async () => {
    const { deps } = ledgerWith(env({ version: 'v2.3.0', goodVersions: ['v2.3.0'], lastOutcome: 'succeeded' }));
    expect(await prepareRollback(ctx(), deps)).toEqual({ action: 'nothing', reason: 'no known-good version of api other than v2.3.0 in prod' });
  });

  it('retries a rollback that failed: the unhealthy live version is still the suspect', async () => {
    const { deps } = ledgerWith(env({ version: 'v2.4.0', healthy: false, goodVersions: ['v2.4.0', 'v2.3.0'], lastOutcome: 'rollback-failed' }));
    expect(await prepareRollback(ctx({ trigger: { kind: 'manual' } }), deps)).toMatchObject({ action: 'rollback', fromVersion: 'v2.4.0', toVersion: 'v2.3.0' });
  });
});
