import { describe, expect, it } from 'vitest';
import { estimateStep, recommendLooks, simulateStep } from '../../lambdas/lib/judge/plan.js';
import { binomialLowerTail } from '../../lambdas/lib/judge/spending.js';

/** The planner's closed form against the real judge on simulated steps, and the default bake it gives. */

const at = (canaryPerMinute: number) => ({ traffic: { requestsPerMinute: canaryPerMinute * 10, errorRate: 0.005 }, weight: 0.1, pollSeconds: 60 });

describe('the canary planner', () => {
  it('predicts what the real judge does, within a few points', () => {
    for (const [rate, looks] of [
      [1000, 10],
      [100, 60],
    ] as const) {
      const estimate = estimateStep({ ...at(rate), looks });
      const healthy = simulateStep({ ...at(rate), looks, runs: 100, seed: 11 });
      const doubled = simulateStep({ ...at(rate), looks, runs: 100, seed: 12, errorMultiplier: 2 });
      // 100 runs carry about ±5 points at 50%; the closed form is within ±5 of 2,000 runs.
      expect(Math.abs(estimate.healthyPass - healthy.pass)).toBeLessThan(0.1);
      expect(Math.abs(estimate.caught[0]!.chance - doubled.fail)).toBeLessThan(0.1);
    }
  });

  it('recommends the bake for 95% of healthy canaries: about 30 expected canary errors at 100 a minute, minutes at 1000', () => {
    const hundred = recommendLooks(at(100), 240);
    expect(hundred.capped).toBe(false);
    expect(hundred.estimate.healthyPass).toBeGreaterThanOrEqual(0.95);
    expect(estimateStep({ ...at(100), looks: hundred.looks - 1 }).healthyPass).toBeLessThan(0.95);
    expect(hundred.estimate.expectedCanaryErrors).toBeGreaterThan(25);
    expect(hundred.estimate.expectedCanaryErrors).toBeLessThan(45);
    expect(recommendLooks(at(1000), 240).looks).toBeLessThanOrEqual(10);
    const twenty = recommendLooks(at(20), 240);
    expect(twenty).toMatchObject({ looks: 240, capped: true });
    expect(twenty.estimate.healthyPass).toBeGreaterThan(0.65);
  });

  it('computes binomial tails exactly on either side of the mean', () => {
    expect(binomialLowerTail(10, 0.5, 4)).toBeCloseTo(386 / 1024, 12);
    expect(binomialLowerTail(10, 0.5, 8)).toBeCloseTo(1 - 11 / 1024, 12);
    // Far above the mean: the lower tail is all but 1 (its pmf underflows at x).
    expect(binomialLowerTail(6000, 0.1429, 3000)).toBe(1);
    expect(binomialLowerTail(6000, 0.1, 10)).toBeLessThan(1e-200);
  });
});
