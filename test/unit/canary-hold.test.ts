import { describe, expect, it } from 'vitest';
import { parseConfig, type PipelineConfig } from '../../lambdas/lib/config.js';
import { judgeCanary, type CanaryOutput, type CanaryStepInput } from '../../lambdas/lib/steps/canary.js';
import type { ArmMetrics, Deps, MetricsSource } from '../../lambdas/lib/ports.js';
import type { Decision } from '../../lambdas/lib/types.js';
import { demoConfig } from '../support/harness.js';

/** The judge's last look with `onInconclusive: "hold"`: it holds instead of failing safe, and keeps the environment locked for the hold. */

const NOW = new Date('2026-11-27T12:10:00Z');
const none: ArmMetrics = { requests: 0, errors: 0, slow: 0, slowShift: 0 };
// No traffic: inconclusive at every look.
const quiet: MetricsSource = { armCounts: async () => ({ canary: none, baseline: none }), baselineLatency: async () => ({ requests: 0, p90Ms: 0, p99Ms: 0 }) };

function setup(policy: Record<string, unknown> | undefined) {
  const base = demoConfig({ canary: true });
  const environment = structuredClone(base.services.demo!.environments.find((e) => e.canary)!);
  environment.canary!.onInconclusive = 'hold';
  // The policy as the release context carries it (normalise takes it from the config, with its defaults).
  const parsed: PipelineConfig | undefined = policy ? parseConfig({ services: { demo: { environments: [{ name: environment.name }] } }, policy }) : undefined;
  const approvals = parsed?.policy ? { approvers: parsed.policy.approvers, approvalTimeoutHours: parsed.policy.approvalTimeoutHours } : null;
  const decisions: Decision[] = [];
  const locks: { holder: string; ttlMs: number }[] = [];
  const deps = {
    ledger: {
      acquireLock: async (_s: string, _e: string, holder: string, _now: number, ttlMs: number) => (locks.push({ holder, ttlMs }), { acquired: true }),
      recordDecision: async (d: Decision) => void decisions.push(d),
    },
    metrics: () => quiet,
    clock: { now: () => NOW, sleep: async () => {} },
    lockTtlMs: 60_000,
  } as unknown as Pick<Deps, 'ledger' | 'metrics' | 'clock' | 'lockTtlMs'>;
  const maxPolls = Math.floor(environment.canary!.maxBakeSeconds! / environment.canary!.pollSeconds);
  const input: CanaryStepInput = {
    releaseId: 'demo@v1.1.0',
    executionId: 'exec-1',
    release: { service: 'demo', version: 'v1.1.0', trigger: { kind: 'manual' } } as CanaryStepInput['release'],
    service: base.services.demo!,
    environment,
    canary: { mode: 'canary', baselineVersion: 'v1.0.0', version: 'v1.1.0', ref: 'v1.1.0', weight: 10, stepIndex: 0, stepStartedAt: '2026-11-27T12:00:00Z', startedAt: '2026-11-27T12:00:00Z', polls: maxPolls - 1 } as CanaryOutput,
    approvals,
  };
  return { deps, input, decisions, locks, maxPolls };
}

describe('a canary that holds when inconclusive', () => {
  it('answers hold at the bake bound, bounded by policy.approvalTimeoutHours, with the lock kept for that long', async () => {
    const t = setup({ approvers: ['alice', 'bob'], approvalTimeoutHours: 2 });
    const out = await judgeCanary(t.input, t.deps);

    expect(out).toMatchObject({ mode: 'canary', weight: 10, next: 'hold', hold: { weight: 10, step: 1, approvalTimeoutSeconds: 7200 } });
    const hold = (out as Extract<CanaryOutput, { mode: 'canary' }>).hold!;
    expect(hold.reason).toContain(`still inconclusive in prod at 10% after ${t.maxPolls} looks, the bake bound`);
    expect(hold.evidence).toMatchObject({ weight: 10, poll: t.maxPolls, of: t.maxPolls, counts: { canary: none } });
    expect(hold.timeoutReason).toBe('the canary of demo v1.1.0 held at 10% of prod got no promote or rollback decision within 2 h (policy.approvalTimeoutHours), so it fails safe');
    // Renewed as at every look, then extended past the hold.
    expect(t.locks).toEqual([{ holder: 'exec-1', ttlMs: 60_000 }, { holder: 'exec-1', ttlMs: 7_200_000 + 60_000 }]);
    expect(t.decisions.map((d) => [d.step, d.verdict])).toEqual([['judge', 'waiting']]);
    expect(t.decisions[0]!.summary).toContain('held at 10% for a decision from alice, bob (onInconclusive: hold)');
  });

  it('looks again before the bound, as any inconclusive canary does', async () => {
    const t = setup({ approvers: ['alice', 'bob'] });
    const out = await judgeCanary({ ...t.input, canary: { ...t.input.canary, polls: 0 } as CanaryOutput }, t.deps);
    expect(out).toMatchObject({ next: 'wait' });
    expect(out).not.toHaveProperty('hold');
  });

  it('fails safe when the release policy has nobody to decide', async () => {
    const t = setup(undefined);
    await expect(judgeCanary(t.input, t.deps)).rejects.toMatchObject({ name: 'CanaryInconclusive', message: expect.stringContaining('onInconclusive is "hold" but policy.approvers lists nobody to decide, so failing safe') });
    expect(t.decisions.map((d) => d.verdict)).toEqual(['failed']);
    expect(t.locks).toHaveLength(1);
  });
});
