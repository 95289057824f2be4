/**
 * Types of the canary judge. The judge is a pure function of cumulative counts; see
 * `judge.ts` for the verdict rules and `sequential.ts` for the statistics.
 */

/** Cumulative counts for one arm since the canary step began. */
export interface ArmCounts {
  requests: number;
  errors: number;
  /** Requests slower than the tail threshold, fixed before the canary (the baseline's p99). */
  slow: number;
  /**
   * Requests slower than the shift threshold, fixed before the canary (the baseline's p90). A
   * slowdown of the whole distribution shows here long before it shows in the tail: ten times
   * the events, at a smaller ratio. Absent: latency is judged on `slow` alone.
   */
  slowShift?: number;
  /** Events of the custom metrics (`JudgeConfig.custom`) by name; a missing name counts 0. */
  custom?: Record<string, number>;
}

export type JudgeMetric = 'errors' | 'latency';
export type Verdict = 'pass' | 'fail' | 'inconclusive';

export interface JudgeConfig {
  /**
   * Family-wise false-fail rate, default 0.05, split across the metrics judged, custom ones
   * included (Bonferroni);
   * latency's share is split again between its tail and shift tests when both are counted.
   */
  alpha: number;
  /** Default both. `latency` judges the `slow` counts exactly as `errors` judges errors. */
  metrics: JudgeMetric[];
  /** Custom count metrics (`ArmCounts.custom`), each judged as `errors` is and each a member of the family. Default none. */
  custom: string[];
  /**
   * The relative margin of the pass side: a test passes once the canary is shown below this
   * ratio of the baseline's rate (default 2: at most twice the baseline's errors per request).
   * The latency shift (requests over the baseline's p90, ten times as many events) uses half the
   * excess: 1 + (passRatio − 1) / 2, 1.5 by default. Each margin is the larger of this and the
   * absolute one (`maxErrorRateIncrease`, `maxSlowShareIncrease`).
   */
  passRatio: number;
  /**
   * The absolute margin for errors and custom counts, per request (default 0.0025: the canary may
   * have 0.25 percentage points more errors than the baseline). At a low base rate a ratio says
   * little (0.02% against 0.01% is ×2); whichever margin is larger applies.
   */
  maxErrorRateIncrease: number;
  /** The absolute margin for latency: the share of requests over a threshold (default 0.005, 0.5 points). */
  maxSlowShareIncrease: number;
  /**
   * The pass side's error rate, per test: the chance that a canary exactly at a margin is
   * promoted (default 0.003). A canary passes only when every test passes, so no split across
   * the metrics is needed (an intersection-union test): a regression in one metric is promoted
   * with at most that metric's beta.
   */
  beta: number;
  /** Below this many canary requests no verdict but inconclusive. */
  minCanaryRequests: number;
  /** Sample-ratio check, default 0.001. */
  srmAlpha: number;
  /**
   * With no events in either arm a ratio says nothing; the metric passes once the canary's
   * event-free requests show its rate is below this (default 1%: about 580 requests at beta 0.003).
   */
  zeroEventTolerance: number;
}

/** What one test judged: latency is two tests when `slowShift` is given (tail and shift). */
export type EvidenceMetric = 'errors' | 'latency' | 'latency-shift' | `custom:${string}`;

export interface MetricEvidence {
  metric: EvidenceMetric;
  canary: { events: number; requests: number };
  baseline: { events: number; requests: number };
  /** Canary rate / baseline rate; null when the baseline has no events (or no requests). */
  ratio: number | null;
  /**
   * Confidence sequence for the canary/baseline rate ratio at this look, at level
   * 1 − 2·alpha_m (each side alpha_m). Bounds are clamped to [0, RATIO_CAP]; RATIO_CAP means
   * unbounded (kept finite so the judgement survives JSON and DynamoDB).
   */
  interval: [number, number];
  /** Anytime-valid p-value for "canary worse" (the mixture's). */
  pValue: number;
  /**
   * The group-sequential fail test over the step's horizon (`spending.ts`), when the judge was
   * given the horizon, the metric is one it applies to (errors, custom counts; latency is
   * judged by the mixture alone) and this look could fail: its alpha, the share of the horizon
   * elapsed (in looks),
   * the alpha spent so far (allowed: α(t)), and the canary event count that fails at this look
   * (null: none can).
   */
  spending?: { alpha: number; t: number; allowed: number; spent: number; boundary: number | null };
  /**
   * The pass side: the margin (a rate ratio; the larger of the relative and the absolute one at
   * the baseline's rate) the canary must be shown below, and, when it passed, by which test: the
   * anytime-valid mixture at any look, or the exact test at the bake bound.
   */
  margin: number;
  passedBy?: 'mixture' | 'bound';
  verdict: Verdict;
}

/**
 * One earlier look of the same step, as the judge returned it (`Judgement.look`): what the
 * group-sequential test needs to recompute the boundaries it used. Kept terse: a step stores
 * one per look.
 */
export interface JudgeLook {
  /** Canary and baseline requests, cumulative. */
  r: [number, number];
  /**
   * Per test whose fail side spends over the horizon (errors, custom counts) and could act on
   * that look: cumulative [canary, baseline] events.
   */
  e: Record<string, [number, number]>;
}

/**
 * The step's horizon and its earlier looks; without it the judge is the anytime-valid mixture
 * alone. The horizon is counted in looks, not seconds: this look is look `history.length + 1`
 * and the share of the horizon elapsed is that over `horizonLooks` (independent of the data,
 * and unchanged when the waits between looks are compressed, as in the demo and the tests).
 */
export interface JudgeHorizon {
  /** The looks the step's bake bound allows: `maxBakeSeconds / pollSeconds`, at least 1. */
  horizonLooks: number;
  /** Every earlier look of this step, oldest first. Leaving one out would break the guarantee. */
  history: JudgeLook[];
}

export interface Judgement {
  verdict: Verdict;
  reason: string;
  metrics: MetricEvidence[];
  srm: { expectedShare: number; observedShare: number | null; pValue: number; failed: boolean };
  /** With a horizon: this look, for the caller to append to the history it passes next time. */
  look?: JudgeLook;
}
