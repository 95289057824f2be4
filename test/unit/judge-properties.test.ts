/**
 * Properties of the canary judge, checked by simulation (fast-check draws the scenarios from a
 * fixed seed; each scenario drives its own seeded generator, so every run is reproducible).
 *
 * The central property: under the null (same per-request rate in both arms), however the
 * judge is called — every minute, or at any random subset of minutes — the fraction of
 * canaries it *ever* fails stays within alpha (plus binomial slack for the finite number of
 * simulated canaries).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { judge } from '../../lambdas/lib/judge/judge.js';
import { P_FLOOR, RATIO_CAP } from '../../lambdas/lib/judge/sequential.js';
import type { ArmCounts, JudgeConfig, JudgeLook } from '../../lambdas/lib/judge/types.js';
import { binomial, poisson, rng } from '../../bench/sampling.js';

// ---- simulated canaries ----------------------------------------------------------------

interface NullScenario {
  seed: number;
  errorRate: number; // same in both arms
  slowRate: number; // same in both arms
  split: number; // canary share of traffic, also the configured weight
  requestsPerMinute: number; // total, both arms
  burstiness: number; // sd of the log traffic multiplier per minute
  minutes: number;
  checkProbability: number; // 1 = after every minute
}

const nullScenario = (checkEveryMinute: boolean): fc.Arbitrary<NullScenario> =>
  fc.record({
    seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
    errorRate: fc.double({ min: 0.001, max: 0.05, noNaN: true }),
    slowRate: fc.double({ min: 0.001, max: 0.05, noNaN: true }),
    split: fc.double({ min: 0.05, max: 0.5, noNaN: true }),
    requestsPerMinute: fc.integer({ min: 20, max: 3000 }),
    burstiness: fc.double({ min: 0, max: 1, noNaN: true }),
    minutes: fc.integer({ min: 1, max: 60 }),
    checkProbability: checkEveryMinute ? fc.constant(1) : fc.double({ min: 0.05, max: 1, noNaN: true }),
  });

interface Look {
  minute: number;
  canary: ArmCounts;
  baseline: ArmCounts;
}

/** Cumulative counts at each minute the judge is asked (random per-minute traffic, bursts). */
function simulate(s: NullScenario, rateRatio = 1): Look[] {
  const u = rng(s.seed);
  const canary = { requests: 0, errors: 0, slow: 0 };
  const baseline = { requests: 0, errors: 0, slow: 0 };
  const looks: Look[] = [];
  for (let minute = 1; minute <= s.minutes; minute++) {
    // Traffic varies minute to minute (log-normal), with occasional 4× bursts.
    const z = Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
    const level = s.requestsPerMinute * Math.exp(s.burstiness * z) * (u() < 0.05 ? 4 : 1);
    const nC = poisson(level * s.split, u);
    const nB = poisson(level * (1 - s.split), u);
    canary.requests += nC;
    baseline.requests += nB;
    canary.errors += binomial(nC, Math.min(1, s.errorRate * rateRatio), u);
    baseline.errors += binomial(nB, s.errorRate, u);
    canary.slow += binomial(nC, s.slowRate, u);
    baseline.slow += binomial(nB, s.slowRate, u);
    if (minute === s.minutes || u() < s.checkProbability) looks.push({ minute, canary: { ...canary }, baseline: { ...baseline } });
  }
  return looks;
}

const slack = (alpha: number, runs: number) => alpha + 3 * Math.sqrt((alpha * (1 - alpha)) / runs);

function everFails(s: NullScenario, config: Partial<JudgeConfig>): boolean {
  return simulate(s).some((l) => judge(l.canary, l.baseline, s.split, config).verdict === 'fail');
}

// ---- the properties --------------------------------------------------------------------

describe('judge under the null: the false-fail rate stays within alpha at any check schedule', () => {
  it('errors only, checked after every minute for up to 60 minutes', () => {
    const runs = 400;
    const alpha = 0.05;
    const scenarios = fc.sample(nullScenario(true), { numRuns: runs, seed: 20240601 });
    const fails = scenarios.filter((s) => everFails(s, { metrics: ['errors'], alpha })).length;
    expect(fails / runs).toBeLessThanOrEqual(slack(alpha, runs));
  });

  it('errors and latency (Bonferroni) plus the sample-ratio check, at random subsets of minutes', () => {
    const runs = 400;
    const alpha = 0.05;
    const scenarios = fc.sample(nullScenario(false), { numRuns: runs, seed: 7 });
    const fails = scenarios.filter((s) => everFails(s, { alpha })).length;
    // Family-wise: alpha over the metrics plus srmAlpha for the sample-ratio check.
    expect(fails / runs).toBeLessThanOrEqual(slack(alpha + 0.001, runs));
  });

  it('a larger alpha (0.2, errors only) is honoured too', () => {
    const runs = 300;
    const alpha = 0.2;
    const scenarios = fc.sample(nullScenario(true), { numRuns: runs, seed: 99 });
    const fails = scenarios.filter((s) => everFails(s, { metrics: ['errors'], alpha })).length;
    expect(fails / runs).toBeLessThanOrEqual(slack(alpha, runs));
  });
});

describe('judge with a bake horizon: the fail side spends alpha over it, and still holds it', () => {
  /** Looks as the canary step makes them: each with the history of the earlier ones, the horizon fixed in advance. */
  function everFailsWithHorizon(s: NullScenario, horizonMinutes: number, config: Partial<JudgeConfig>): boolean {
    const history: JudgeLook[] = [];
    for (const l of simulate(s)) {
      const j = judge(l.canary, l.baseline, s.split, config, { horizonLooks: horizonMinutes, history });
      if (j.verdict === 'fail') return true;
      history.push(j.look!);
    }
    return false;
  }

  it('errors only, a 30-minute horizon, checked after every minute for up to 60 minutes (past the horizon too)', () => {
    const runs = 400;
    const alpha = 0.05;
    const scenarios = fc.sample(nullScenario(true), { numRuns: runs, seed: 20261130 });
    const fails = scenarios.filter((s) => everFailsWithHorizon(s, 30, { metrics: ['errors'], alpha })).length;
    expect(fails / runs).toBeLessThanOrEqual(slack(alpha, runs));
  });

  it('errors and latency plus the sample-ratio check, a 15-minute horizon, at random subsets of minutes', () => {
    const runs = 400;
    const alpha = 0.05;
    const scenarios = fc.sample(nullScenario(false), { numRuns: runs, seed: 15 });
    const fails = scenarios.filter((s) => everFailsWithHorizon(s, 15, { alpha })).length;
    expect(fails / runs).toBeLessThanOrEqual(slack(alpha + 0.001, runs));
  });

  it('a larger alpha (0.2, errors only) over a 60-minute horizon is honoured too', () => {
    const runs = 300;
    const alpha = 0.2;
    const scenarios = fc.sample(nullScenario(true), { numRuns: runs, seed: 61 });
    const fails = scenarios.filter((s) => everFailsWithHorizon(s, 60, { metrics: ['errors'], alpha })).length;
    expect(fails / runs).toBeLessThanOrEqual(slack(alpha, runs));
  });
});

describe('judge at the pass margin: the confidence sequence rarely drops below a true ratio', () => {
  it('with a true ratio of passRatio, the upper bound ever falls below it in at most alpha_m of runs', () => {
    const runs = 200;
    const alphaM = 0.05;
    const scenarios = fc.sample(nullScenario(true), { numRuns: runs, seed: 1234 });
    const misses = scenarios.filter((s) =>
      simulate(s, 1.5).some((l) => {
        const m = judge(l.canary, l.baseline, s.split, { metrics: ['errors'], alpha: alphaM }).metrics[0]!;
        // Only looks with events: the no-events convention is outside the guarantee.
        return m.canary.events + m.baseline.events > 0 && m.interval[1] < 1.5;
      }),
    ).length;
    expect(misses / runs).toBeLessThanOrEqual(slack(alphaM, runs));
  });
});

describe('judge invariants on arbitrary counts', () => {
  const armCounts = (max: number) =>
    fc
      .record({ requests: fc.integer({ min: 0, max }), e: fc.double({ min: 0, max: 1, noNaN: true }), s: fc.double({ min: 0, max: 1, noNaN: true }) })
      .map(({ requests, e, s }) => ({ requests, errors: Math.floor(requests * e * e * e), slow: Math.floor(requests * s * s * s) }));
  const weight = fc.double({ min: 0.01, max: 0.99, noNaN: true });

  it('verdicts agree with the evidence, the point estimate lies in the interval, numbers stay finite', () => {
    fc.assert(
      fc.property(armCounts(20_000), armCounts(200_000), weight, (canary, baseline, w) => {
        const j = judge(canary, baseline, w);
        const alphaM = 0.025;
        expect(JSON.parse(JSON.stringify(j))).toEqual(j);
        for (const m of j.metrics) {
          expect(m.pValue).toBeGreaterThanOrEqual(P_FLOOR);
          expect(m.pValue).toBeLessThanOrEqual(1);
          expect(m.interval[0]).toBeLessThanOrEqual(m.interval[1]);
          expect(m.interval[1]).toBeLessThanOrEqual(RATIO_CAP);
          if (m.ratio !== null && m.ratio > 1e-6 && m.ratio < RATIO_CAP) {
            expect(m.interval[0]).toBeLessThanOrEqual(m.ratio * (1 + 1e-9));
            expect(m.interval[1]).toBeGreaterThanOrEqual(m.ratio * (1 - 1e-9));
          }
          if (m.verdict === 'fail') {
            expect(m.pValue).toBeLessThanOrEqual(alphaM);
            expect(m.interval[0]).toBeGreaterThan(1 - 1e-6);
          }
          if (m.verdict === 'pass' && m.canary.events + m.baseline.events > 0) expect(m.interval[1]).toBeLessThan(1.5 + 1e-6);
          if (canary.requests >= 50 && m.pValue <= alphaM && m.baseline.requests > 0) expect(m.verdict).toBe('fail');
        }
        if (canary.requests < 50) expect(j.verdict).toBe('inconclusive');
        else if (j.srm.failed || j.metrics.some((m) => m.verdict === 'fail')) expect(j.verdict).toBe('fail');
        else if (j.metrics.every((m) => m.verdict === 'pass')) expect(j.verdict).toBe('pass');
        else expect(j.verdict).toBe('inconclusive');
      }),
      { seed: 42, numRuns: 300 },
    );
  });

  it('one more canary error never raises the p-value; one more baseline error never lowers it', () => {
    fc.assert(
      fc.property(armCounts(5000), armCounts(50_000), (canary, baseline) => {
        fc.pre(canary.requests > canary.errors && baseline.requests > baseline.errors && canary.requests > 0 && baseline.requests > 0);
        const cfg = { metrics: ['errors' as const] };
        const p = judge(canary, baseline, 0.1, cfg).metrics[0]!.pValue;
        const worse = judge({ ...canary, errors: canary.errors + 1 }, baseline, 0.1, cfg).metrics[0]!.pValue;
        const better = judge(canary, { ...baseline, errors: baseline.errors + 1 }, 0.1, cfg).metrics[0]!.pValue;
        expect(worse).toBeLessThanOrEqual(p * (1 + 1e-12));
        expect(better).toBeGreaterThanOrEqual(p * (1 - 1e-12));
      }),
      { seed: 43, numRuns: 300 },
    );
  });

  it('zero canary requests is never a pass or a fail', () => {
    fc.assert(
      fc.property(armCounts(1_000_000), weight, (baseline, w) => {
        expect(judge({ requests: 0, errors: 0, slow: 0 }, baseline, w).verdict).toBe('inconclusive');
      }),
      { seed: 44, numRuns: 200 },
    );
  });
});
