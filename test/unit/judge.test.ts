import { describe, expect, it } from 'vitest';
import { InvalidInput } from '../../lambdas/lib/errors.js';
import { DEFAULT_JUDGE_CONFIG, judge } from '../../lambdas/lib/judge/judge.js';
import { RATIO_CAP, ratioConfidenceSequence, worseLogBF } from '../../lambdas/lib/judge/sequential.js';
import type { ArmCounts } from '../../lambdas/lib/judge/types.js';

const arm = (requests: number, errors: number, slow: number): ArmCounts => ({ requests, errors, slow });

describe('judge: fixed data sets with known answers', () => {
  it('fails a clear error regression: 1000 req / 20 errors against 9000 / 45', () => {
    // Prepare: canary 2% errors, baseline 0.5%; slow requests at the same 1% in both arms.
    const canary = arm(1000, 20, 10);
    const baseline = arm(9000, 45, 90);

    // Act
    const j = judge(canary, baseline, 0.1);

    // Assess
    expect(j.verdict).toBe('fail');
    const errors = j.metrics.find((m) => m.metric === 'errors')!;
    expect(errors.verdict).toBe('fail');
    expect(errors.ratio).toBeCloseTo(4, 10);
    expect(errors.pValue).toBeLessThanOrEqual(0.025);
    expect(errors.interval[0]).toBeGreaterThan(1);
    expect(errors.interval[1]).toBeGreaterThan(4);
    expect(j.metrics.find((m) => m.metric === 'latency')!.verdict).not.toBe('fail');
    expect(j.reason).toMatch(/^errors: canary 4× baseline \(95% CS [\d.]+–[\d.]+\), p=[\d.e-]+ ≤ 0\.025$/);
    expect(j.srm.failed).toBe(false);
  });

  it('passes identical rates with lots of data', () => {
    const j = judge(arm(20_000, 100, 200), arm(180_000, 900, 1800), 0.1);
    expect(j.verdict).toBe('pass');
    expect(j.metrics.map((m) => m.verdict)).toEqual(['pass', 'pass']);
    for (const m of j.metrics) {
      expect(m.ratio).toBeCloseTo(1, 10);
      expect(m.interval[0]).toBeLessThan(1);
      expect(m.interval[1]).toBeLessThan(DEFAULT_JUDGE_CONFIG.passRatio);
      expect(m.passedBy).toBe('mixture');
    }
    expect(j.reason).toMatch(/^shown within its margins: errors: .*shown below 2× baseline \(β 0\.003\); latency \(slow requests\): /);
  });

  it('is inconclusive on tiny data', () => {
    const j = judge(arm(60, 0, 1), arm(540, 3, 5), 0.1);
    expect(j.verdict).toBe('inconclusive');
    expect(j.metrics.every((m) => m.verdict === 'inconclusive')).toBe(true);
    expect(j.reason).toMatch(/^no verdict yet: errors: /);
  });

  it('is inconclusive with zero canary traffic, never a silent pass', () => {
    for (const baseline of [arm(0, 0, 0), arm(540, 0, 0), arm(100_000, 500, 1000)]) {
      const j = judge(arm(0, 0, 0), baseline, 0.1);
      expect(j.verdict).toBe('inconclusive');
      expect(j.reason).toMatch(/^no canary requests yet/);
      expect(j.metrics.every((m) => m.verdict === 'inconclusive')).toBe(true);
      expect(j.srm.observedShare === null || j.srm.observedShare === 0).toBe(true);
    }
  });

  it('fails on a sample-ratio mismatch: weight 0.1, observed share 0.5 over 10k requests', () => {
    const j = judge(arm(5000, 25, 50), arm(5000, 25, 50), 0.1);
    expect(j.verdict).toBe('fail');
    expect(j.reason).toMatch(/^misrouted traffic: canary received 50% of 10000 requests, configured 10%/);
    expect(j.srm).toMatchObject({ expectedShare: 0.1, observedShare: 0.5, failed: true });
    expect(j.srm.pValue).toBeLessThanOrEqual(0.001);
  });

  it('does not flag a split that matches the weight', () => {
    const j = judge(arm(1013, 5, 10), arm(8987, 45, 90), 0.1);
    expect(j.srm.failed).toBe(false);
    expect(j.srm.pValue).toBeGreaterThan(0.5);
  });

  it('fails a latency-only regression and names the latency metric', () => {
    const j = judge(arm(1000, 5, 40), arm(9000, 45, 90), 0.1);
    expect(j.verdict).toBe('fail');
    expect(j.reason).toMatch(/^latency \(slow requests\): canary 4× baseline/);
    expect(j.reason).not.toMatch(/errors/);
    expect(j.metrics.find((m) => m.metric === 'latency')!.verdict).toBe('fail');
    expect(j.metrics.find((m) => m.metric === 'errors')!.verdict).not.toBe('fail');
  });
});

describe('judge: rules', () => {
  it('gives no verdict below minCanaryRequests, however strong the evidence', () => {
    const j = judge(arm(40, 40, 40), arm(360, 0, 0), 0.1);
    expect(j.verdict).toBe('inconclusive');
    expect(j.reason).toBe('only 40 canary requests, need 50 for a verdict');
    expect(j.metrics.every((m) => m.verdict === 'inconclusive')).toBe(true);
    expect(j.metrics[0]!.pValue).toBeLessThan(1e-6); // the evidence is still reported
    expect(judge(arm(40, 40, 40), arm(360, 0, 0), 0.1, { minCanaryRequests: 20 }).verdict).toBe('fail');
  });

  it('passes a metric with no events in either arm only once the canary shows an absolute rate below the tolerance', () => {
    // (1 - 0.01)^n <= beta 0.003 needs n >= 579 event-free canary requests.
    expect(judge(arm(578, 0, 0), arm(5200, 0, 0), 0.1).verdict).toBe('inconclusive');
    expect(judge(arm(579, 0, 0), arm(5200, 0, 0), 0.1).verdict).toBe('pass');
    expect(judge(arm(60, 0, 0), arm(540, 0, 0), 0.1, { zeroEventTolerance: 0.1 }).verdict).toBe('pass');
    const j = judge(arm(50, 0, 0), arm(40, 0, 0), 0.5);
    expect(j.verdict).toBe('inconclusive');
    expect(j.metrics[0]).toMatchObject({ ratio: null, pValue: 1, interval: [0, RATIO_CAP], verdict: 'inconclusive' });
    expect(j.reason).toContain('no events in either arm (50 canary, 40 baseline requests); not yet enough to show a rate below 1%');
  });

  it('splits alpha across metrics (Bonferroni)', () => {
    // Find a data set whose errors p-value lies in (0.025, 0.05].
    const baseline = arm(9000, 45, 90);
    let found: ArmCounts | undefined;
    for (let e = 5; e < 40 && !found; e++) {
      const p = judge(arm(1000, e, 10), baseline, 0.1, { metrics: ['errors'] }).metrics[0]!.pValue;
      if (p > 0.025 && p <= 0.05) found = arm(1000, e, 10);
    }
    expect(found).toBeDefined();
    expect(judge(found!, baseline, 0.1, { metrics: ['errors'] }).verdict).toBe('fail');
    const both = judge(found!, baseline, 0.1);
    expect(both.metrics[0]!.verdict).toBe('inconclusive');
    expect(both.verdict).toBe('inconclusive');
    // One metric judged alone gets the whole alpha, and a 90% (= 1 − 2·0.05) interval.
    expect(judge(found!, baseline, 0.1, { metrics: ['errors'] }).reason).toMatch(/90% CS .* ≤ 0\.05$/);
  });

  it('judges latency on two thresholds when the shift count is given, splitting latency\'s alpha between them', () => {
    // A 10% slowdown of every request: few more requests pass the p99, many more pass the p90.
    const canary = { requests: 4000, errors: 20, slow: 60, slowShift: 560 };
    const baseline = { requests: 36_000, errors: 180, slow: 360, slowShift: 3600 };
    const j = judge(canary, baseline, 0.1);

    expect(j.metrics.map((m) => m.metric)).toEqual(['errors', 'latency', 'latency-shift']);
    const [, tail, shift] = j.metrics;
    expect(tail!.verdict).toBe('inconclusive');
    expect(shift!.verdict).toBe('fail');
    expect(shift!.ratio).toBeCloseTo(1.4, 10);
    expect(j.verdict).toBe('fail');
    expect(j.reason).toMatch(/^latency shift \(requests over the shift threshold\): canary 1\.4× baseline \(98% CS [\d.]+–[\d.]+\), p=[\d.e-]+ ≤ 0\.013$/);

    // Without the shift count the same data is judged on the tail alone, at latency's whole share.
    const tailOnly = judge({ ...canary, slowShift: undefined }, { ...baseline, slowShift: undefined }, 0.1);
    expect(tailOnly.metrics.map((m) => m.metric)).toEqual(['errors', 'latency']);
    expect(tailOnly.verdict).not.toBe('fail');
  });

  it('passes only when the tail and the shift tests both pass', () => {
    const same = { requests: 20_000, errors: 100, slow: 200, slowShift: 2000 };
    const base = { requests: 180_000, errors: 900, slow: 1800, slowShift: 18_000 };
    expect(judge(same, base, 0.1).verdict).toBe('pass');
    // The same tail, but a shift whose ratio cannot yet be bounded below 1.5.
    expect(judge({ ...same, slowShift: 2600 }, base, 0.1).verdict).not.toBe('pass');
  });

  it('fails a small but demonstrated regression even when it is within passRatio', () => {
    // 0.6% against 0.5% with a million canary requests: CS ≈ 1.15–1.25, within 1.5 and above 1.
    const j = judge(arm(1_000_000, 6000, 10_000), arm(9_000_000, 45_000, 90_000), 0.1);
    const errors = j.metrics[0]!;
    expect(errors.interval[0]).toBeGreaterThan(1);
    expect(errors.interval[1]).toBeLessThan(1.5);
    expect(errors.verdict).toBe('fail');
    expect(j.verdict).toBe('fail');
  });

  it('judges only the configured metrics', () => {
    const j = judge(arm(1000, 20, 10), arm(9000, 45, 90), 0.1, { metrics: ['latency'] });
    expect(j.metrics.map((m) => m.metric)).toEqual(['latency']);
    expect(j.verdict).not.toBe('fail');
  });

  it('reports a null ratio and a finite, storable interval when the baseline has no events', () => {
    const j = judge(arm(1000, 3, 0), arm(9000, 0, 0), 0.1, { metrics: ['errors'] });
    const m = j.metrics[0]!;
    expect(m.ratio).toBeNull();
    expect(m.interval[1]).toBe(RATIO_CAP);
    expect(j.reason).toContain('canary 3/1000, baseline 0/9000');
    expect(j.reason).toContain('–∞');
    expect(JSON.parse(JSON.stringify(j))).toEqual(j);
  });

  it('keeps every number finite so the judgement survives JSON', () => {
    for (const j of [
      judge(arm(1000, 1000, 1000), arm(9_000_000, 0, 0), 0.1),
      judge(arm(10_000_000, 0, 0), arm(1, 1, 1), 0.5, { minCanaryRequests: 0 }),
      judge(arm(0, 0, 0), arm(0, 0, 0), 0.1),
    ]) {
      expect(JSON.parse(JSON.stringify(j))).toEqual(j);
      expect(j.srm.pValue).toBeGreaterThan(0);
    }
  });

  it('judges a custom metric as it judges errors, as one more member of the family', () => {
    // Errors and latency equal in both arms; the service's own count of failed checkouts is 4× on the canary.
    const canary = { ...arm(1000, 5, 10), custom: { 'checkout-failures': 20 } };
    const baseline = { ...arm(9000, 45, 90), custom: { 'checkout-failures': 45 } };
    const j = judge(canary, baseline, 0.1, { custom: ['checkout-failures'] });
    expect(j.verdict).toBe('fail');
    const custom = j.metrics.find((m) => m.metric === 'custom:checkout-failures')!;
    expect(custom).toMatchObject({ verdict: 'fail', canary: { events: 20, requests: 1000 }, baseline: { events: 45, requests: 9000 } });
    expect(custom.ratio).toBeCloseTo(4, 10);
    // Three members now: each fails at alpha / 3.
    expect(j.reason).toMatch(/^checkout-failures \(custom metric\): canary 4× baseline .* ≤ 0\.017$/);
    expect(j.metrics.filter((m) => m.verdict === 'fail').map((m) => m.metric)).toEqual(['custom:checkout-failures']);

    // Without the custom metric named, the same counts pass errors and latency alone.
    expect(judge(canary, baseline, 0.1).metrics.map((m) => m.metric)).toEqual(['errors', 'latency']);
    // A custom metric nobody counted is zero in both arms: it passes only by the no-events rule, never by default.
    const none = judge(arm(20_000, 100, 200), arm(180_000, 900, 1800), 0.1, { custom: ['refunds'] });
    expect(none.metrics.find((m) => m.metric === 'custom:refunds')).toMatchObject({ verdict: 'pass', canary: { events: 0 }, baseline: { events: 0 } });
    expect(() => judge({ ...canary, custom: { 'checkout-failures': -1 } }, baseline, 0.1, { custom: ['checkout-failures'] })).toThrow(/canary\.custom\.checkout-failures/);
  });

  it('never passes with nothing to judge (latency alone, waiting for its thresholds)', () => {
    const j = judge(arm(20_000, 100, 200), arm(180_000, 900, 1800), 0.1, { metrics: [] });
    expect(j).toMatchObject({ verdict: 'inconclusive', reason: 'no metric to judge yet', metrics: [] });
    // A sample-ratio mismatch still fails it.
    expect(judge(arm(20_000, 100, 200), arm(20_000, 100, 200), 0.1, { metrics: [] }).verdict).toBe('fail');
  });

  it('rejects impossible inputs with InvalidInput naming the field', () => {
    expect(() => judge(arm(10, 11, 0), arm(10, 0, 0), 0.1)).toThrow(InvalidInput);
    expect(() => judge(arm(10, 11, 0), arm(10, 0, 0), 0.1)).toThrow(/canary\.errors/);
    expect(() => judge(arm(10, 0, 0), arm(-1, 0, 0), 0.1)).toThrow(/baseline\.requests/);
    expect(() => judge(arm(10, 0, 0), arm(10, 0, 0), 1)).toThrow(/canaryWeight/);
    expect(() => judge(arm(10, 0, 0), arm(10, 0, 0), 0.1, { metrics: ['errors', 'cpu' as never] })).toThrow(/unknown metric cpu/);
    expect(() => judge(arm(10, 0, 0), arm(10, 0, 0), 0.1, { alpha: 0 })).toThrow(/alpha/);
    expect(() => judge(arm(NaN, 0, 0), arm(10, 0, 0), 0.1)).toThrow(/canary\.requests/);
  });

  it('has the documented defaults', () => {
    expect(DEFAULT_JUDGE_CONFIG).toEqual({
      alpha: 0.05,
      metrics: ['errors', 'latency'],
      custom: [],
      passRatio: 2,
      maxErrorRateIncrease: 0.0025,
      maxSlowShareIncrease: 0.005,
      beta: 0.003,
      minCanaryRequests: 50,
      srmAlpha: 0.001,
      zeroEventTolerance: 0.01,
    });
  });
});

describe('judge: the pass side (non-inferiority within a margin)', () => {
  const errorsOnly = { metrics: ['errors' as const] };

  it('takes the larger of the relative and the absolute margin, at the baseline rate with one event added', () => {
    // Baseline 0.5%: 2× is 1.0%, +0.25 points is 0.75%: the relative margin holds.
    const at05 = judge(arm(5_000, 25, 0), arm(45_000, 224, 0), 0.1, errorsOnly).metrics[0]!;
    expect(at05.margin).toBe(2);
    // Baseline 0.05%: +0.25 points is 6× the baseline (0.0025 / (22 + 1) · 45,000 ≈ 5.9).
    const at005 = judge(arm(5_000, 3, 0), arm(45_000, 22, 0), 0.1, errorsOnly).metrics[0]!;
    expect(at005.margin).toBeCloseTo(1 + 0.0025 / (23 / 45_000), 10);
    // The latency shift takes half the relative excess: 1.5 at passRatio 2, 2 at passRatio 3.
    const shift = (passRatio: number) => judge({ requests: 5_000, errors: 0, slow: 50, slowShift: 500 }, { requests: 45_000, errors: 0, slow: 450, slowShift: 4_500 }, 0.1, { metrics: ['latency'], passRatio }).metrics[1]!;
    expect(shift(2).margin).toBe(1.5);
    expect(shift(3).margin).toBe(2);
  });

  it('passes at the bake bound by the exact test what the mixture alone cannot show yet', () => {
    // 100 canary req/min for 60 minutes at a 0.5% base rate: 36 canary errors against 270 (1.2×).
    const canary = arm(6_000, 36, 0);
    const baseline = arm(54_000, 270, 0);
    const history = Array.from({ length: 59 }, () => ({ r: [1, 9] as [number, number], e: {} }));
    const before = judge(canary, baseline, 0.1, errorsOnly, { horizonLooks: 60, history: history.slice(0, 58) });
    expect(before.verdict).toBe('inconclusive');
    const atBound = judge(canary, baseline, 0.1, errorsOnly, { horizonLooks: 60, history });
    expect(atBound.verdict).toBe('pass');
    expect(atBound.metrics[0]!.passedBy).toBe('bound');
    expect(atBound.reason).toContain('shown below 2× baseline by the exact test at the bake bound');
    // The same counts at twice the baseline's rate: not shown below 2×, at the bound or after it.
    expect(judge(arm(6_000, 55, 0), baseline, 0.1, errorsOnly, { horizonLooks: 60, history }).verdict).not.toBe('pass');
  });

  it('promotes a canary exactly at the margin in at most beta of runs', () => {
    // Exact binomial draws of the event split at ratio 2 on a 10/90 split, judged once at the bound.
    let promoted = 0;
    let u = 12345;
    const rand = () => ((u = (Math.imul(u, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const q = (2 * 0.1) / (2 * 0.1 + 0.9);
    const history = Array.from({ length: 29 }, () => ({ r: [1, 9] as [number, number], e: {} }));
    for (let i = 0; i < 2_000; i++) {
      let c = 0;
      for (let e = 0; e < 300; e++) if (rand() < q) c++;
      if (judge(arm(6_000, c, 0), arm(54_000, 300 - c, 0), 0.1, errorsOnly, { horizonLooks: 30, history }).verdict === 'pass') promoted++;
    }
    // beta 0.003, of which the exact test spends three quarters: at most 0.225% (plus noise, 3 SE on 2,000 runs ≈ 0.32%).
    expect(promoted / 2_000).toBeLessThanOrEqual(0.006);
  });

  it('needs every test to pass: a latency shift beyond its margin holds back a canary whose errors pass', () => {
    const canary = { requests: 20_000, errors: 100, slow: 200, slowShift: 4_000 };
    const baseline = { requests: 180_000, errors: 900, slow: 1_800, slowShift: 18_000 };
    const j = judge(canary, baseline, 0.1);
    expect(j.metrics.find((m) => m.metric === 'errors')!.verdict).toBe('pass');
    expect(j.verdict).not.toBe('pass');
  });

  it('rejects a beta or an absolute margin out of range, naming the field', () => {
    expect(() => judge(arm(100, 0, 0), arm(900, 0, 0), 0.1, { beta: 0 })).toThrow(/beta/);
    expect(() => judge(arm(100, 0, 0), arm(900, 0, 0), 0.1, { maxErrorRateIncrease: -0.1 })).toThrow(/maxErrorRateIncrease.*0\.25 percentage points/);
  });
});

describe('sequential statistics', () => {
  it('the confidence sequence excludes exactly the ratios the one-sided tests reject', () => {
    const counts = { canaryEvents: 20, baselineEvents: 45, canaryShare: 1000 / 10_000 };
    const [lo, hi] = ratioConfidenceSequence(counts, 0.025);
    const threshold = Math.log(1 / 0.025);
    expect(worseLogBF(counts, lo * 0.999)).toBeGreaterThanOrEqual(threshold);
    expect(worseLogBF(counts, lo * 1.001)).toBeLessThan(threshold);
    expect(lo).toBeLessThan(4);
    expect(hi).toBeGreaterThan(4);
  });

  it('a mixture p-value is 1 when the canary looks better than the baseline', () => {
    expect(judge(arm(1000, 1, 10), arm(9000, 45, 90), 0.1).metrics[0]!.pValue).toBe(1);
  });
});
