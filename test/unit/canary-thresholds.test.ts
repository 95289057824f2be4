import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../lambdas/lib/config.js';
import { judge } from '../../lambdas/lib/judge/judge.js';
import { judgeCanary, MIN_THRESHOLD_REQUESTS, type CanaryOutput, type CanaryStepInput } from '../../lambdas/lib/steps/canary.js';
import type { ArmCountsResult, ArmMetrics, BaselineLatency, Deps, MetricsQuery, MetricsSource } from '../../lambdas/lib/ports.js';
import type { Decision } from '../../lambdas/lib/types.js';
import { demoConfig } from '../support/harness.js';

/** A metrics source with scripted answers that records what it was asked. */
class ScriptedMetrics implements MetricsSource {
  queries: MetricsQuery[] = [];
  latencyAsks: { since: string; until: string }[] = [];
  constructor(
    private readonly beside: BaselineLatency,
    private readonly counts: ArmCountsResult,
  ) {}
  async armCounts(q: MetricsQuery) {
    this.queries.push(q);
    return this.counts;
  }
  async baselineLatency(q: { since: string; until: string }) {
    this.latencyAsks.push({ since: q.since, until: q.until });
    return this.beside;
  }
}

const NOW = new Date('2026-11-27T12:10:00Z');
const config = demoConfig({ canary: true });
const service = config.services.demo!;
const environment = service.environments.find((e) => e.canary)!;

function setup(metrics: ScriptedMetrics, canary: Partial<CanaryOutput> = {}) {
  const decisions: Decision[] = [];
  const deps = {
    ledger: { acquireLock: async () => ({ acquired: true }), recordDecision: async (d: Decision) => void decisions.push(d) },
    metrics: () => metrics,
    clock: { now: () => NOW, sleep: async () => {} },
    lockTtlMs: 60_000,
  } as unknown as Pick<Deps, 'ledger' | 'metrics' | 'clock' | 'lockTtlMs'>;
  const input: CanaryStepInput = {
    releaseId: 'demo#v1.1.0',
    executionId: 'exec-1',
    release: { service: 'demo', version: 'v1.1.0', trigger: { kind: 'manual' } } as CanaryStepInput['release'],
    service,
    environment,
    canary: { mode: 'canary', baselineVersion: 'v1.0.0', version: 'v1.1.0', ref: 'v1.1.0', weight: 50, stepIndex: 0, stepStartedAt: '2026-11-27T12:00:00Z', startedAt: '2026-11-27T12:00:00Z', polls: 0, ...canary } as CanaryOutput,
  };
  return { deps, input, decisions };
}

const same = (n: number): ArmMetrics => ({ requests: n, errors: n / 100, slow: n / 100, slowShift: n / 10 });
const latency = (requests: number): BaselineLatency => ({ requests, p90Ms: 180, p99Ms: 400 });

describe('canary latency thresholds', () => {
  it('are fixed from the baseline beside the canary and then kept for every later look and step', async () => {
    const metrics = new ScriptedMetrics(latency(5000), { canary: same(20_000), baseline: same(20_000) });
    const { deps, input } = setup(metrics, { stepIndex: 1, stepStartedAt: '2026-11-27T12:05:00Z' });

    const first = await judgeCanary(input, deps);

    // Read from the canary's start, not the step's: every step is judged on the same thresholds.
    expect(metrics.latencyAsks).toEqual([{ since: '2026-11-27T12:00:00Z', until: NOW.toISOString() }]);
    expect(metrics.queries[0]!.thresholds).toMatchObject({ tailMs: 400, shiftMs: 180 });
    expect(first).toMatchObject({ latencyThresholds: { tailMs: 400, shiftMs: 180, basis: "v1.0.0's first 5000 requests beside the canary: p90 180 ms, p99 400 ms" } });

    const again = await judgeCanary({ ...input, canary: { ...first, polls: 1 } as CanaryOutput }, deps);
    expect(metrics.latencyAsks).toHaveLength(1); // not asked again: the thresholds never move
    expect(again).toMatchObject({ latencyThresholds: first.mode === 'canary' ? first.latencyThresholds : {} });
  });

  it('without enough baseline requests, latency is not judged and the canary cannot pass', async () => {
    // Errors alone would pass: identical rates on plenty of requests.
    const metrics = new ScriptedMetrics(latency(MIN_THRESHOLD_REQUESTS - 1), { canary: same(20_000), baseline: same(20_000) });
    const { deps, input, decisions } = setup(metrics);

    const out = await judgeCanary(input, deps);

    expect(out).toMatchObject({ next: 'wait' });
    expect(out).not.toHaveProperty('latencyThresholds');
    expect(metrics.queries[0]!.thresholds).toBeUndefined();
    expect(decisions.at(-1)!.summary).toMatch(/latency not judged yet: its thresholds need 1000 baseline requests, 999 so far/);
  });

  it('keep errors at their share of alpha while latency waits, so the family-wise rate holds', async () => {
    // Canary errors whose anytime-valid p-value lies between 0.025 and 0.05: enough to fail
    // errors judged alone at 0.05, not at their share 0.025 of a two-metric family.
    const counts = { canary: { requests: 1000, errors: 13, slow: 0, slowShift: 0 }, baseline: { requests: 9000, errors: 42, slow: 0, slowShift: 0 } };
    const p = judge(counts.canary, counts.baseline, 0.1, { metrics: ['errors'] }).metrics[0]!.pValue;
    expect(p).toBeGreaterThan(0.025);
    expect(p).toBeLessThanOrEqual(0.05);
    // A look whose earlier looks are not in the state: the judge uses its anytime-valid test alone.
    const metrics = new ScriptedMetrics(latency(MIN_THRESHOLD_REQUESTS - 1), counts);
    const { deps, input, decisions } = setup(metrics, { weight: 10, polls: 1 });

    await expect(judgeCanary(input, deps)).resolves.toMatchObject({ next: 'wait' });
    expect(decisions.at(-1)!.summary).toMatch(/errors: canary 2\.8× baseline \(95% CS [\d.]+–[\d.]+\), p=0\.035/);

    // Look 10 of the 15 the step's bake bound allows (two thirds of its horizon, counted in
    // looks), the earlier nine having had nothing to judge: the test over the horizon spends
    // errors' share too (0.9 × 0.025, the rest kept by the anytime-valid test).
    const quiet = Array.from({ length: 9 }, () => ({ r: [0, 0] as [number, number], e: {} }));
    const first = setup(new ScriptedMetrics(latency(MIN_THRESHOLD_REQUESTS - 1), counts), { weight: 10, polls: 9, looks: quiet });
    await expect(judgeCanary(first.input, first.deps)).rejects.toThrow(/errors: .*over the horizon: 13 of 55 events in the canary, 12 fail \(α 0\.023, 44% spendable at 67% of the bake\)/);
  });

  it('a canary judged on latency alone waits for its thresholds instead of failing the look', async () => {
    const metrics = new ScriptedMetrics(latency(MIN_THRESHOLD_REQUESTS - 1), { canary: same(20_000), baseline: same(20_000) });
    const { deps, input, decisions } = setup(metrics);
    const latencyOnly = { ...environment, canary: { ...environment.canary!, metrics: ['latency' as const] } };

    await expect(judgeCanary({ ...input, environment: latencyOnly }, deps)).resolves.toMatchObject({ next: 'wait' });
    expect(decisions.at(-1)).toMatchObject({ verdict: 'waiting', summary: expect.stringMatching(/latency not judged yet: .*; no metric to judge yet$/) });
  });

  it('are not asked for by a canary that does not judge latency: it may pass on errors alone', async () => {
    const metrics = new ScriptedMetrics(latency(0), { canary: same(20_000), baseline: same(20_000) });
    const { deps, input } = setup(metrics);
    const errorsOnly = { ...environment, canary: { ...environment.canary!, metrics: ['errors' as const] } };

    await expect(judgeCanary({ ...input, environment: errorsOnly }, deps)).resolves.toMatchObject({ next: 'advance' });
    expect(metrics.latencyAsks).toEqual([]);
    expect(metrics.queries[0]!.thresholds).toBeUndefined();
  });

  it('say so when a custom metric has no datapoint from either version', async () => {
    const metrics = new ScriptedMetrics(latency(5000), { canary: same(20_000), baseline: same(20_000), unpublished: ['refunds'] });
    const { deps, input, decisions } = setup(metrics);
    const withCustom = { ...environment, canary: { ...environment.canary!, customMetrics: [{ name: 'refunds', namespace: 'Shop', metricName: 'Refunds', dimensions: {}, versionDimension: 'ExecutedVersion' }] } };

    await judgeCanary({ ...input, environment: withCustom }, deps);
    expect(metrics.queries[0]!.custom).toEqual(withCustom.canary.customMetrics);
    expect(decisions.at(-1)!.summary).toMatch(/; no datapoint at all from either version for refunds \(Shop Refunds by ExecutedVersion\): if the service does publish it, check the name and the version dimension$/);
  });

  it('honour a configured slowThresholdMs for the tail', async () => {
    const cfg = parseConfigText(JSON.stringify({ ...config, services: { demo: { ...service, environments: service.environments.map((e) => (e.canary ? { ...e, canary: { ...e.canary, slowThresholdMs: 750 } } : e)) } } }));
    const metrics = new ScriptedMetrics(latency(5000), { canary: same(20_000), baseline: same(20_000) });
    const { deps, input } = setup(metrics);
    const env = cfg.services.demo!.environments.find((e) => e.canary)!;
    const out = await judgeCanary({ ...input, environment: env }, deps);
    expect(out).toMatchObject({ latencyThresholds: { tailMs: 750, shiftMs: 180, basis: expect.stringContaining('slowThresholdMs 750 ms replaces the p99') } });
  });
});
