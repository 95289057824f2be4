import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../lambdas/adapters/json-logger.js';
import { parseConfig } from '../../lambdas/lib/config.js';
import type { Ledger, LedgerFreeze } from '../../lambdas/lib/ports.js';
import type { Decision } from '../../lambdas/lib/types.js';
import { policySchema } from '../../lambdas/lib/policy-config.js';
import { UNCONFIGURED_POLICY } from '../../lambdas/lib/policy.js';
import { checkPolicy, type PolicyCheck } from '../../lambdas/lib/steps/check-policy.js';

/** The policy step's choice between go, wait, approve and DeployWindowClosed, at fixed times. */

function run(nowIso: string, opts: { emergency?: boolean; approvers?: string[]; previous?: PolicyCheck; maxWaitHours?: number; freezes?: LedgerFreeze[]; noPolicy?: boolean } = {}) {
  const config = parseConfig({
    services: { api: { environments: [{ name: 'dev' }, { name: 'prod' }] } },
    ...(opts.noPolicy ? {} : { policy: {
      timezone: 'Europe/Berlin',
      windows: [{ environments: ['prod'], days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '09:00', to: '16:00' }],
      approvers: opts.approvers ?? ['alice', 'bob'],
      maxWaitHours: opts.maxWaitHours ?? 72,
      approvalTimeoutHours: 2,
    } }),
  });
  const decisions: Decision[] = [];
  const deps = {
    config: async () => config,
    ledger: { recordDecision: async (d: Decision) => void decisions.push(d), freezes: async () => opts.freezes ?? [], environments: async () => [] } as unknown as Ledger,
    // Nothing else runs anywhere: the hotfix check reads no build.
    store: { get: async () => undefined, stream: async () => undefined },
    locations: { artifactsBucket: 'artifacts', environmentsBucket: 'environments' },
    approvals: { get: async () => undefined },
    clock: { now: () => new Date(nowIso), sleep: async () => {} },
    log: silentLogger,
  };
  const release = { service: 'api', version: 'v1.0.0', trigger: { kind: 'manual' as const }, ...(opts.emergency ? { emergency: { reason: 'outage' } } : {}) };
  const result = checkPolicy({ releaseId: 'api@v1.0.0', executionId: 'x', release, stage: { environment: { name: 'prod', smoke: [], alarms: [] }, ...(opts.previous ? { policy: opts.previous } : {}) } }, deps);
  return { result, decisions };
}

describe('check-policy', () => {
  it('goes on inside the window and records why', async () => {
    const { result, decisions } = run('2026-06-03T08:00:00Z');
    expect(await result).toMatchObject({ action: 'go' });
    expect(decisions).toMatchObject([{ step: 'policy', environment: 'prod', verdict: 'passed' }]);
  });

  it('waits until the window opens when that is within maxWaitHours', async () => {
    const { result, decisions } = run('2026-06-05T15:00:00Z');
    expect(await result).toEqual({ action: 'wait', until: '2026-06-08T07:00:00.000Z', waitingSince: '2026-06-05T15:00:00.000Z', reason: expect.stringContaining('waiting 64.0 h') });
    expect(decisions[0]!.verdict).toBe('waiting');
  });

  it('bounds the wait from the first check, not from each re-check', async () => {
    // Waiting since Monday; on Friday evening the next opening is 64 h away but 160 h after the first check.
    const previous: PolicyCheck = { action: 'wait', reason: '', until: '2026-06-05T07:00:00.000Z', waitingSince: '2026-06-01T15:00:00.000Z' };
    await expect(run('2026-06-05T15:00:00Z', { previous }).result).rejects.toMatchObject({ name: 'DeployWindowClosed', message: expect.stringContaining('more than policy.maxWaitHours (72 h) after 2026-06-01T15:00:00.000Z') });
  });

  it('fails with DeployWindowClosed beyond maxWaitHours, saying how to override', async () => {
    const { result, decisions } = run('2026-06-05T15:00:00Z', { maxWaitHours: 4 });
    await expect(result).rejects.toMatchObject({ name: 'DeployWindowClosed', message: expect.stringContaining('an emergency release (input {"emergency":{"reason":"…"}}) approved by 2 of alice, bob can override it') });
    expect(decisions[0]!.verdict).toBe('failed');
  });

  it('asks for approval in an emergency, with the timeout and its reason', async () => {
    expect(await run('2026-06-05T15:00:00Z', { emergency: true }).result).toMatchObject({ action: 'approve', approvalTimeoutSeconds: 7200, timeoutReason: expect.stringContaining('did not get 2 different approvals within 2 h') });
  });

  it('cannot override without two approvers, and says so', async () => {
    await expect(run('2026-06-05T15:00:00Z', { emergency: true, approvers: [] }).result).rejects.toMatchObject({ name: 'DeployWindowClosed', message: expect.stringContaining('no emergency override is possible') });
  });
});

/** A freeze declared with `tagflow freeze` (in the ledger), as the policy step reads it. */
const ledgerFreeze = (over: Partial<LedgerFreeze> = {}): LedgerFreeze => ({
  name: 'inc-4211',
  environments: ['prod'],
  reason: 'payments degraded',
  from: '2026-06-01T00:00:00.000Z',
  until: '2026-06-10T00:00:00.000Z',
  frozenBy: 'alice@laptop',
  frozenAt: '2026-06-01T00:00:00.000Z',
  ...over,
});

describe('check-policy with a freeze from the ledger', () => {
  it('blocks inside the window (a freeze wins over a window) and the decision names the freeze and who froze it', async () => {
    // Wednesday 10:00 in Berlin: inside the window; the freeze outlasts maxWaitHours.
    const { result, decisions } = run('2026-06-03T08:00:00Z', { freezes: [ledgerFreeze()] });
    await expect(result).rejects.toMatchObject({ name: 'DeployWindowClosed', message: expect.stringContaining('in the freeze "inc-4211" (declared by alice@laptop) until') });
    expect(decisions).toMatchObject([{ step: 'policy', environment: 'prod', verdict: 'failed', summary: expect.stringContaining('(payments degraded)') }]);
    expect((decisions[0]!.evidence as { status: { closedBy: unknown[] } }).status.closedBy).toEqual([{ kind: 'freeze', name: 'inc-4211', until: '2026-06-10T00:00:00.000Z', reason: 'payments degraded', frozenBy: 'alice@laptop' }]);
  });

  it('waits for a short freeze to end, then for the window', async () => {
    const { result } = run('2026-06-03T08:00:00Z', { freezes: [ledgerFreeze({ until: '2026-06-03T18:00:00.000Z' })] });
    // The freeze ends at 20:00 in Berlin, after the window; prod opens Thursday 09:00.
    expect(await result).toMatchObject({ action: 'wait', until: '2026-06-04T07:00:00.000Z' });
  });

  it('freezes even without a configured policy (the schema\'s defaults, without loading the schema)', async () => {
    expect(UNCONFIGURED_POLICY).toEqual(policySchema.parse({}));
    const { result, decisions } = run('2026-06-03T08:00:00Z', { noPolicy: true, freezes: [ledgerFreeze()] });
    await expect(result).rejects.toMatchObject({ name: 'DeployWindowClosed', message: expect.stringContaining('in the freeze "inc-4211"') });
    expect(decisions[0]!.verdict).toBe('failed');
  });

  it('lets an emergency with two approvers override it', async () => {
    const { result, decisions } = run('2026-06-03T08:00:00Z', { emergency: true, freezes: [ledgerFreeze()] });
    expect(await result).toMatchObject({ action: 'approve', reason: expect.stringContaining('in the freeze "inc-4211" (declared by alice@laptop)') });
    expect(decisions[0]!.verdict).toBe('waiting');
  });

  it('ignores a freeze that expired, was unfrozen, covers another environment, or another service', async () => {
    const freezes = [
      ledgerFreeze({ name: 'expired', until: '2026-06-02T00:00:00.000Z' }),
      ledgerFreeze({ name: 'unfrozen', unfrozenBy: 'bob@laptop', unfrozenAt: '2026-06-02T00:00:00.000Z' }),
      ledgerFreeze({ name: 'dev-only', environments: ['dev'] }),
      ledgerFreeze({ name: 'other-service', service: 'billing' }),
    ];
    const { result, decisions } = run('2026-06-03T08:00:00Z', { freezes });
    expect(await result).toMatchObject({ action: 'go' });
    expect(decisions).toMatchObject([{ verdict: 'passed' }]);
  });

  it('applies a freeze scoped to the release\'s own service', async () => {
    await expect(run('2026-06-03T08:00:00Z', { freezes: [ledgerFreeze({ service: 'api' })] }).result).rejects.toMatchObject({ name: 'DeployWindowClosed' });
  });
});
