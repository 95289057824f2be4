import { describe, expect, it } from 'vitest';
import { judgeCanary, type CanaryOutput, type CanaryStepInput } from '../../lambdas/lib/steps/canary.js';
import type { ArmMetrics, Deps, MetricsSource } from '../../lambdas/lib/ports.js';
import type { Decision } from '../../lambdas/lib/types.js';
import { demoConfig } from '../support/harness.js';

/**
 * A step without `maxBakeSeconds` bakes as long as its traffic needs: planned once, at the first
 * look at which the judge can act, from both arms' totals; and a step that never sees traffic
 * says so instead of baking for hours.
 */

const NOW = new Date('2026-11-27T12:10:00Z');
const arm = (requests: number, errors: number): ArmMetrics => ({ requests, errors, slow: 0, slowShift: 0 });

function setup(canaryConfig: Record<string, unknown>, counts: { canary: ArmMetrics; baseline: ArmMetrics }) {
  const base = demoConfig({ canary: true });
  const environment = structuredClone(base.services.demo!.environments.find((e) => e.canary)!);
  const { maxBakeSeconds: _configured, ...rest } = environment.canary!;
  // The judge's defaults, whatever the demo's config tunes.
  environment.canary = { ...rest, metrics: ['errors'], passRatio: 2, maxErrorRateIncrease: 0.0025, beta: 0.003, minCanaryRequests: 50, bakeCapSeconds: 14_400, ...canaryConfig } as typeof environment.canary;
  const decisions: Decision[] = [];
  const source: MetricsSource = { armCounts: async () => counts, baselineLatency: async () => ({ requests: 0, p90Ms: 0, p99Ms: 0 }) } as unknown as MetricsSource;
  const deps = {
    ledger: { acquireLock: async () => ({ acquired: true }), recordDecision: async (d: Decision) => void decisions.push(d) },
    metrics: () => source,
    clock: { now: () => NOW, sleep: async () => {} },
    lockTtlMs: 60_000,
  } as unknown as Pick<Deps, 'ledger' | 'metrics' | 'clock' | 'lockTtlMs'>;
  const input = (polls: number, bakeLooks?: number): CanaryStepInput => ({
    releaseId: 'demo@v1.1.0',
    executionId: 'exec-1',
    release: { service: 'demo', version: 'v1.1.0', trigger: { kind: 'manual' } } as CanaryStepInput['release'],
    service: base.services.demo!,
    environment,
    canary: {
      mode: 'canary',
      baselineVersion: 'v1.0.0',
      version: 'v1.1.0',
      ref: 'v1.1.0',
      weight: 10,
      stepIndex: 0,
      stepStartedAt: '2026-11-27T12:00:00Z',
      startedAt: '2026-11-27T12:00:00Z',
      polls,
      looks: [],
      ...(bakeLooks ? { bakeLooks } : {}),
    } as unknown as CanaryOutput,
  });
  return { input, deps, decisions };
}

describe('the bake a step takes from its traffic', () => {
  it('plans it at the first look that can act: about 30 canary errors at 100 canary requests a minute', async () => {
    // One minute of 1000 requests, 10% to the canary, 0.5% errors.
    const t = setup({ pollSeconds: 60 }, { canary: arm(100, 0), baseline: arm(900, 5) });
    const out = await judgeCanary(t.input(0), t.deps);
    expect(out).toMatchObject({ mode: 'canary', next: 'wait', polls: 1 });
    const looks = (out as { bakeLooks: number }).bakeLooks;
    // 30-ish expected canary errors: 100 req/min × 0.5–0.6% × looks.
    expect(looks).toBeGreaterThan(45);
    expect(looks).toBeLessThan(110);
    const plan = t.decisions.find((d) => d.step === 'plan')!;
    expect(plan.summary).toMatch(new RegExp(`^canary v1\\.1\\.0 in prod at 10%: plan: bake ${looks} min from the traffic \\(1000 req/min, 0\\.6% errors, 10% to the canary: about \\d+ canary errors expected in ${looks} min\\); a healthy canary passes within the bake in about 9[5-9]% of releases, errors ×2 are caught in (about \\d+%|over 99%)`));
    const judged = t.decisions.find((d) => d.step === 'judge')!;
    expect(judged.summary).toContain(`(look 1/${looks})`);
    // Planned once: the next look keeps the bake whatever the traffic does, and records no plan.
    const again = setup({ pollSeconds: 60 }, { canary: arm(1000, 0), baseline: arm(9000, 500) });
    const next = await judgeCanary(again.input(1, looks), again.deps);
    expect((next as { bakeLooks: number }).bakeLooks).toBe(looks);
    expect(again.decisions.filter((d) => d.step === 'plan')).toEqual([]);
  });

  it('says when the traffic cannot support a decision within the cap', async () => {
    // 20 canary requests a minute at 0.5%: even four hours leave a healthy canary short of 95%.
    const t = setup({ pollSeconds: 60 }, { canary: arm(60, 0), baseline: arm(540, 3) });
    const out = await judgeCanary(t.input(2), t.deps);
    expect((out as { bakeLooks: number }).bakeLooks).toBe(240);
    expect(t.decisions.find((d) => d.step === 'plan')!.summary).toMatch(/plan: the traffic cannot support a decision within the 4 h cap \(bakeCapSeconds 14400\): at 200 req\/min, .* a healthy canary passes within the bake in about \d+% of releases/);
  });

  it('with maxBakeSeconds, keeps it and says what it allows', async () => {
    const t = setup({ pollSeconds: 60, maxBakeSeconds: 900 }, { canary: arm(100, 0), baseline: arm(900, 5) });
    const out = await judgeCanary(t.input(0), t.deps);
    expect((out as { bakeLooks: number }).bakeLooks).toBe(15);
    expect(t.decisions.find((d) => d.step === 'plan')!.summary).toMatch(/plan \(maxBakeSeconds 900\): at 1000 req\/min, .* a healthy canary passes within the bake in about \d+% of releases, .*; 95% needs a bake of \d+ min/);
  });

  it('waits for canary traffic no longer than 15 minutes, then ends inconclusive saying why', async () => {
    const t = setup({ pollSeconds: 60 }, { canary: arm(0, 0), baseline: arm(0, 0) });
    const waiting = await judgeCanary(t.input(13), t.deps);
    expect(waiting).toMatchObject({ next: 'wait' });
    expect(t.decisions.at(-1)!.summary).toContain('(look 14/15)');
    await expect(judgeCanary(t.input(14), t.deps)).rejects.toThrow(
      /still inconclusive in prod at 10% after 15 looks, the bake bound \(only 0 canary requests in 15 looks, 50 needed before the judge can act: is traffic reaching the canary\?\)/,
    );
  });
});
