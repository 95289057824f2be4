/**
 * Canary judge benchmark: our judge (anytime-valid mixture plus the step's bake horizon) against
 * a Kayenta-style Mann-Whitney judge and a CloudWatch-alarm-style threshold judge, on synthetic
 * per-minute CloudWatch-shaped data, measured against the targets of issue 13. Writes its section
 * of bench/RESULTS.md.
 *
 *   npx tsx bench/judge.ts [--runs 2000] [--only REGEX] [--judges ours,exact] [--no-write]
 *
 * Data, per arm per minute (what a CloudWatch query returns): request count (Sum), error count
 * (Sum), p99 latency (extended statistic over the minute's requests) and the counts of requests
 * slower than two thresholds fixed as the canary step fixes them: the p99 (tail) and the p90
 * (shift) of the baseline's first MIN_THRESHOLD_REQUESTS requests beside the canary; until
 * then latency is not judged (and ours cannot pass).
 *
 * Traffic: total requests per minute ~ Poisson(level), level log-normal minute to minute
 * (sd 0.3) with traffic bursts (3% of minutes start a 1–3 minute ×3 burst); requests route
 * per request with the configured weight. Shared incidents: 2% of minutes a dependency hiccup
 * makes both arms ×4 more error-prone and ×1.3 slower. Missing data: 3% of minutes have no
 * datapoint for either arm (the query came back empty), and an arm with no requests in a
 * minute has no datapoint. Latency: log-normal, median 120 ms, sigma 0.5 (a tail regression adds
 * a fixed delay to a fraction of the canary's requests). Base error rate 0.5%.
 *
 * Each scenario runs for its step's bake horizon (`step`, default 60 minutes: maxBakeSeconds / 60,
 * a look a minute), and ours is told that horizon (`horizonLooks` = step). The baseline's
 * latencies are drawn one by one until its first MIN_THRESHOLD_REQUESTS requests have fixed the
 * thresholds (they are read from those very samples); after that, and for the canary throughout,
 * a minute's counts over the thresholds are drawn as binomials of the log-normal's exact tail
 * shares at those thresholds and its p99 (nearest rank) as the order statistic (a Beta draw
 * mapped through the latency distribution's quantile): the same distributions as drawing every
 * request, at a cost independent of the traffic (the p99 of a minute with at most MAX_EXPLICIT
 * requests is still read from its requests drawn one by one).
 *
 * Judges, each stopping the canary at its first verdict (a fail rolls back, a pass promotes):
 * - ours: `judge()` after every minute on cumulative counts (errors, and requests over the tail
 *   and the shift thresholds), defaults, given the step's horizon and its earlier looks, as the
 *   canary step calls it. Fail side: the anytime-valid mixture at every look plus, for errors,
 *   an exact group-sequential test spending its alpha over the horizon. Pass side
 *   (non-inferiority within margins): the mixture at every look and one exact binomial test at
 *   the horizon's last look, beta split between them.
 * - Kayenta-style: once at the end of the step (fixed horizon) or every 10 minutes (and at the
 *   step's end), Mann-Whitney U (two-sided, 98% confidence, normal approximation with tie
 *   correction) on the per-minute error rates and, separately, on the per-minute p99 latencies
 *   of canary vs baseline since the start; a metric whose canary is significantly higher fails
 *   the canary. Otherwise pass at the step's end.
 * - threshold: two alarms, each failing after 3 consecutive minutes (minutes without a
 *   datapoint skipped) of canary error rate > 2× baseline, resp. canary p99 > 1.2× baseline p99.
 *   Otherwise pass at the step's end.
 * - exact single look (the ceiling): the exact one-sided binomial test of the errors, looked at
 *   once at the step's end at the errors' alpha 0.025 (valid only if nobody looks earlier); on
 *   the regression rows it is also looked at every minute h as if h were the horizon, which
 *   gives the fastest median any test of the errors at that alpha can have.
 *
 * Scenarios are split into chunks of runs and judged by NPROC worker processes (this file,
 * forked with `--worker`); the results do not depend on the split (each run is seeded by its
 * scenario and index).
 */
import { execSync, fork, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_JUDGE_CONFIG, judge, MIXTURE_SHARE, PASS_MIXTURE_SHARE } from '../lambdas/lib/judge/judge.js';
import { spendingTest } from '../lambdas/lib/judge/spending.js';
import type { ArmCounts, JudgeLook } from '../lambdas/lib/judge/types.js';
import { estimateStep, MIN_THRESHOLD_REQUESTS } from '../lambdas/lib/judge/plan.js';
import { nearestRank } from '../lambdas/lib/percentile.js';
import { writeResultsSection } from './results.js';
import { binomial, gaussian, hash, poisson, rng, type Rng } from './sampling.js';

/** Standard normal draws of one run (`gaussian`). */
type Gauss = ReturnType<typeof gaussian>;

const SELF = fileURLToPath(import.meta.url);
const ROOT = join(dirname(SELF), '..');
const RESULTS = join(ROOT, 'bench', 'RESULTS.md');
const START = '<!-- bench/judge.ts: start -->';
const END = '<!-- bench/judge.ts: end -->';
const HAND_START = '<!-- canary judge with a bake horizon (measured by hand): start -->';
const HAND_END = '<!-- canary judge with a bake horizon (measured by hand): end -->';

const DEFAULT_STEP = 60;
const BASE_ERROR_RATE = 0.005;
const LATENCY_MEDIAN_MS = 120;
const LATENCY_SIGMA = 0.5;
/** Minutes with at most this many requests in an arm are drawn request by request. */
const MAX_EXPLICIT = 100;
const argValue = (flag: string): string | undefined => {
  const i = process.argv.indexOf(flag);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const RUNS = Number(argValue('--runs') ?? 2000);
/** Runs of the context rows (errors ×1.5, latency +10%): no target is decided on them alone. */
const CONTEXT_RUNS = Math.min(RUNS, 500);
/** Runs per task handed to a worker. */
const CHUNK = 250;

/** k-th smallest (0-based) of the first n entries, in place (Hoare quickselect). */
function select(a: Float64Array, n: number, k: number): number {
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const pivot = a[(lo + hi) >> 1]!;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        const t = a[i]!;
        a[i] = a[j]!;
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k]!;
  }
  return a[k]!;
}

/** Nearest-rank p99 of the first n entries. */
const p99 = (a: Float64Array, n: number) => select(a, n, Math.ceil(0.99 * n) - 1);

function erfc(x: number): number {
  // Numerical Recipes erfcc, |relative error| < 1.2e-7.
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

/** P(Z > z), Z standard normal. */
const upper = (z: number) => 0.5 * erfc(z / Math.SQRT2);

/** Gamma(shape ≥ 1, 1) (Marsaglia & Tsang). */
function gamma(shape: number, u: Rng, normal: Gauss): number {
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    const x = normal();
    let v = 1 + c * x;
    if (v <= 0) continue;
    v = v * v * v;
    const w = u();
    if (w < 1 - 0.0331 * x * x * x * x || Math.log(w) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

// ---- scenarios and data ----------------------------------------------------------------

interface Scenario {
  name: string;
  kind: 'aa' | 'regression';
  canaryPerMinute: number;
  /** Canary share of traffic (the configured weight). */
  weight: number;
  errorMultiplier: number;
  latencyMultiplier: number;
  /** Fraction of canary requests that get `tailAddMs` added. */
  tailFraction: number;
  tailAddMs: number;
  /** First minute (1-based) in which the regression is active. */
  onset: number;
  /** The step's bake horizon in minutes (maxBakeSeconds / 60, a look a minute); the run ends there. */
  step: number;
  /** Fewer runs than `--runs` for a context row no target is decided on (time). */
  runs?: number;
}

const split = (weight: number) => `${Math.round(weight * 100)}/${Math.round((1 - weight) * 100)}`;
const aa = (canaryPerMinute: number, weight: number, step = DEFAULT_STEP): Scenario => ({
  name: `A/A ${canaryPerMinute}/min, ${split(weight)}${step === DEFAULT_STEP ? '' : `, ${step}-min step`}`,
  kind: 'aa',
  canaryPerMinute,
  weight,
  errorMultiplier: 1,
  latencyMultiplier: 1,
  tailFraction: 0,
  tailAddMs: 0,
  onset: 1,
  step,
});

const regression = (name: string, r: Partial<Scenario>): Scenario => ({
  ...aa(100, 0.1),
  name,
  kind: 'regression',
  ...r,
});

/** Errors ×2 at a rate and split (and step), named consistently. */
const x2 = (rate: number, weight: number, step = DEFAULT_STEP): Scenario =>
  regression(`errors ×2, ${rate}/min, ${split(weight)}${step === DEFAULT_STEP ? '' : `, ${step}-min step`}`, {
    errorMultiplier: 2,
    canaryPerMinute: rate,
    weight,
    step,
  });

const SCENARIOS: Scenario[] = [
  // A/A over the default 60-minute step (target 1), then the healthy canaries of target 5.
  ...[5, 20, 100, 1000].flatMap((rate) => [aa(rate, 0.1), aa(rate, 0.5)]),
  aa(1000, 0.1, 10),
  aa(100, 0.1, 45),
  aa(20, 0.1, 240),
  aa(300, 0.1, 20),
  aa(1000, 0.1, 6),
  // Regressions: 100 canary req/min on 10/90 over 60 minutes unless the name says otherwise.
  x2(100, 0.1),
  x2(100, 0.1, 30),
  x2(100, 0.1, 15),
  x2(100, 0.1, 45),
  x2(100, 0.5),
  x2(5, 0.1),
  x2(5, 0.5),
  x2(20, 0.1),
  x2(20, 0.5),
  x2(20, 0.1, 240),
  x2(1000, 0.1),
  x2(1000, 0.5),
  x2(1000, 0.1, 10),
  regression('errors ×1.5', { errorMultiplier: 1.5, runs: CONTEXT_RUNS }),
  regression('errors ×5', { errorMultiplier: 5 }),
  regression('errors ×5 from minute 20', { errorMultiplier: 5, onset: 21 }),
  regression('latency +10%', { latencyMultiplier: 1.1, runs: CONTEXT_RUNS }),
  regression('latency +20%', { latencyMultiplier: 1.2 }),
  regression('tail: 2% of requests +500 ms', { tailFraction: 0.02, tailAddMs: 500 }),
];

interface ArmMinute {
  /** False when the minute has no datapoint for this arm. */
  present: boolean;
  requests: number;
  errors: number;
  slow: number;
  slowShift: number;
  p99: number;
}

interface Run {
  canary: ArmMinute[];
  baseline: ArmMinute[];
  /** Canary requests actually served in each minute (including minutes without a datapoint). */
  served: number[];
  /** The minute (0-based) from whose end the latency thresholds are fixed; Infinity: never. */
  thresholdsFrom: number;
}

/** One arm's latency in one minute: log-normal at `scale`, `tailFraction` of requests `tailAddMs` slower. */
interface LatencyLaw {
  mu: number;
  tailFraction: number;
  tailAddMs: number;
}

const lawOf = (scale: number, tailFraction: number, tailAddMs: number): LatencyLaw => ({ mu: Math.log(LATENCY_MEDIAN_MS * scale), tailFraction, tailAddMs });

/** P(latency > ms). */
function slowerShare(law: LatencyLaw, ms: number): number {
  const base = upper((Math.log(ms) - law.mu) / LATENCY_SIGMA);
  if (law.tailFraction === 0) return base;
  const delayed = ms <= law.tailAddMs ? 1 : upper((Math.log(ms - law.tailAddMs) - law.mu) / LATENCY_SIGMA);
  return (1 - law.tailFraction) * base + law.tailFraction * delayed;
}

/** The latency whose distribution function is p (bisection on the log scale). */
function quantile(law: LatencyLaw, p: number): number {
  let lo = law.mu - 9 * LATENCY_SIGMA;
  let hi = Math.log(Math.exp(law.mu + 9 * LATENCY_SIGMA) + law.tailAddMs);
  for (let i = 0; i < 48; i++) {
    const mid = (lo + hi) / 2;
    if (1 - slowerShare(law, Math.exp(mid)) < p) lo = mid;
    else hi = mid;
  }
  return Math.exp((lo + hi) / 2);
}

let buffer = new Float64Array(1 << 12);

function latencies(n: number, law: LatencyLaw, u: Rng, normal: Gauss): Float64Array {
  if (buffer.length < n) buffer = new Float64Array(n * 2);
  for (let i = 0; i < n; i++) {
    let ms = Math.exp(law.mu + LATENCY_SIGMA * normal());
    if (law.tailFraction > 0 && u() < law.tailFraction) ms += law.tailAddMs;
    buffer[i] = ms;
  }
  return buffer;
}

/** Nearest-rank p99 of n draws: the k-th order statistic, k = ⌈0.99 n⌉, is the quantile at a Beta(k, n − k + 1) draw. */
function p99Of(n: number, law: LatencyLaw, u: Rng, normal: Gauss): number {
  if (n <= MAX_EXPLICIT) return p99(latencies(n, law, u, normal), n);
  const k = Math.ceil(0.99 * n);
  const a = gamma(k, u, normal);
  const b = gamma(n - k + 1, u, normal);
  return quantile(law, a / (a + b));
}

function simulateRun(s: Scenario, seed: number): Run {
  const u = rng(seed);
  const normal = gaussian(u);
  const totalPerMinute = s.canaryPerMinute / s.weight;
  let burstLeft = 0;
  const level = () => {
    if (burstLeft === 0 && u() < 0.03) burstLeft = 1 + Math.floor(u() * 3);
    const burst = burstLeft > 0 ? 3 : 1;
    if (burstLeft > 0) burstLeft--;
    return totalPerMinute * Math.exp(0.3 * normal()) * burst;
  };

  const run: Run = { canary: [], baseline: [], served: [], thresholdsFrom: Infinity };
  const laws: { canary: LatencyLaw[]; baseline: LatencyLaw[] } = { canary: [], baseline: [] };
  /** The baseline's latencies drawn one by one while they fix the thresholds. */
  const calibrationMinutes: Float64Array[] = [];
  let seen = 0;
  for (let minute = 1; minute <= s.step; minute++) {
    const lvl = level();
    const incident = u() < 0.02;
    const missing = u() < 0.03;
    const active = minute >= s.onset;
    const arm = (share: number, isCanary: boolean): ArmMinute => {
      const n = poisson(lvl * share, u);
      const regressed = isCanary && active;
      const pErr = Math.min(1, BASE_ERROR_RATE * (incident ? 4 : 1) * (regressed ? s.errorMultiplier : 1));
      const errors = binomial(n, pErr, u);
      const law = lawOf((incident ? 1.3 : 1) * (regressed ? s.latencyMultiplier : 1), regressed ? s.tailFraction : 0, s.tailAddMs);
      laws[isCanary ? 'canary' : 'baseline'].push(law);
      if (isCanary) run.served.push(n);
      const present = n > 0 && !missing;
      let p = NaN;
      if (present && !isCanary && seen < MIN_THRESHOLD_REQUESTS) {
        const l = latencies(n, law, u, normal).slice(0, n);
        calibrationMinutes.push(l);
        seen += n;
        if (seen >= MIN_THRESHOLD_REQUESTS) run.thresholdsFrom = minute - 1;
        p = p99(l.slice(), n);
      } else if (present) p = p99Of(n, law, u, normal);
      return { present, requests: present ? n : 0, errors: present ? errors : 0, slow: 0, slowShift: 0, p99: p };
    };
    run.canary.push(arm(s.weight, true));
    run.baseline.push(arm(1 - s.weight, false));
  }
  if (run.thresholdsFrom === Infinity) return run;

  // The thresholds, as the canary step fixes them: the baseline's p90 and p99 over its first
  // MIN_THRESHOLD_REQUESTS requests (whole minutes, as CloudWatch reports them).
  const calibration = new Float64Array(seen);
  let at = 0;
  for (const l of calibrationMinutes) {
    calibration.set(l, at);
    at += l.length;
  }
  const shiftMs = select(calibration, seen, Math.ceil(0.9 * seen) - 1);
  const tailMs = select(calibration, seen, Math.ceil(0.99 * seen) - 1);
  let calibrated = 0;
  for (const arm of ['canary', 'baseline'] as const) {
    run[arm].forEach((minute, m) => {
      if (!minute.present) return;
      if (arm === 'baseline' && m <= run.thresholdsFrom) {
        for (const ms of calibrationMinutes[calibrated++]!) {
          if (ms > tailMs) minute.slow++;
          if (ms > shiftMs) minute.slowShift++;
        }
        return;
      }
      const law = laws[arm][m]!;
      const pTail = slowerShare(law, tailMs);
      const pShift = Math.max(pTail, slowerShare(law, shiftMs));
      minute.slow = binomial(minute.requests, pTail, u);
      minute.slowShift = minute.slow + (pTail < 1 ? binomial(minute.requests - minute.slow, (pShift - pTail) / (1 - pTail), u) : 0);
    });
  }
  return run;
}

// ---- the judges ------------------------------------------------------------------------

interface Outcome {
  verdict: 'pass' | 'fail' | 'inconclusive';
  /** Minute of the verdict (the step's end for an inconclusive run). */
  minute: number;
  /** A pass that relied on the no-events convention for some metric (ours only). */
  noEvents?: boolean;
  /** A pass that needed the exact test at the horizon's last look for some metric (ours only). */
  bound?: boolean;
  /** What failed (ours only): the metrics with verdict 'fail', or 'srm'. */
  failed?: string[];
}

function ours(run: Run, s: Scenario): Outcome {
  const c = { requests: 0, errors: 0, slow: 0, slowShift: 0 };
  const b = { requests: 0, errors: 0, slow: 0, slowShift: 0 };
  const all = DEFAULT_JUDGE_CONFIG.metrics;
  const history: JudgeLook[] = [];
  for (let m = 0; m < s.step; m++) {
    const cm = run.canary[m]!;
    const bm = run.baseline[m]!;
    c.requests += cm.requests;
    c.errors += cm.errors;
    c.slow += cm.slow;
    c.slowShift += cm.slowShift;
    b.requests += bm.requests;
    b.errors += bm.errors;
    b.slow += bm.slow;
    b.slowShift += bm.slowShift;
    // As the canary step does: latency waits for its thresholds, errors keep their share of alpha.
    const fixed = m >= run.thresholdsFrom;
    const metrics = fixed ? all : all.filter((x) => x !== 'latency');
    const j = judge(c, b, s.weight, { metrics, alpha: (DEFAULT_JUDGE_CONFIG.alpha * metrics.length) / all.length }, { horizonLooks: s.step, history });
    history.push(j.look!);
    const verdict = j.verdict === 'pass' && !fixed ? 'inconclusive' : j.verdict;
    if (verdict === 'pass') {
      return {
        verdict,
        minute: m + 1,
        noEvents: j.metrics.some((e) => e.canary.events + e.baseline.events === 0),
        bound: j.metrics.some((e) => e.passedBy === 'bound'),
      };
    }
    if (verdict === 'fail') {
      const failed = j.metrics.filter((e) => e.verdict === 'fail').map((e) => e.metric as string);
      return { verdict, minute: m + 1, failed: failed.length > 0 ? failed : ['srm'] };
    }
  }
  return { verdict: 'inconclusive', minute: s.step };
}

/** Cumulative errors and requests of both arms over the first `at` minutes. */
function errorCounts(run: Run, at: number) {
  let c = 0;
  let b = 0;
  let nc = 0;
  let nb = 0;
  for (let m = 0; m < at; m++) {
    c += run.canary[m]!.errors;
    b += run.baseline[m]!.errors;
    nc += run.canary[m]!.requests;
    nb += run.baseline[m]!.requests;
  }
  return { c, b, nc, nb };
}

/** The exact one-sided binomial test of the errors, looked at once after `at` minutes, α 0.025. */
function exactLook(run: Run, at: number): boolean {
  const { c, b, nc, nb } = errorCounts(run, at);
  if (nc + nb === 0 || nc < DEFAULT_JUDGE_CONFIG.minCanaryRequests) return false;
  return spendingTest([{ t: 1, canaryEvents: c, totalEvents: c + b, canaryRequests: nc, totalRequests: nc + nb }], 0.025).reject;
}

/** The ceiling: the exact single look at the step's horizon (valid only if nobody looks earlier). */
function singleLook(run: Run, s: Scenario): Outcome {
  return exactLook(run, s.step) ? { verdict: 'fail', minute: s.step } : { verdict: 'inconclusive', minute: s.step };
}

/** Two-sided Mann-Whitney p-value (normal approximation, tie and continuity corrections), and whether x is stochastically higher. */
function mannWhitney(x: number[], y: number[]): { p: number; higher: boolean } {
  const nx = x.length;
  const ny = y.length;
  if (nx === 0 || ny === 0) return { p: 1, higher: false };
  const all = [...x.map((v) => ({ v, g: 0 })), ...y.map((v) => ({ v, g: 1 }))].sort((a, b) => a.v - b.v);
  const n = all.length;
  let rankSumX = 0;
  let tieTerm = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && all[j + 1]!.v === all[i]!.v) j++;
    const rank = (i + j + 2) / 2;
    const t = j - i + 1;
    tieTerm += t * t * t - t;
    for (let k = i; k <= j; k++) if (all[k]!.g === 0) rankSumX += rank;
    i = j + 1;
  }
  const ux = rankSumX - (nx * (nx + 1)) / 2;
  const mean = (nx * ny) / 2;
  const variance = ((nx * ny) / 12) * (n + 1 - tieTerm / (n * (n - 1)));
  if (!(variance > 0)) return { p: 1, higher: false };
  const z = Math.max(0, Math.abs(ux - mean) - 0.5) / Math.sqrt(variance);
  return { p: erfc(z / Math.SQRT2), higher: ux > mean };
}

/**
 * Kayenta-style: Mann-Whitney U on per-minute error rates and per-minute p99 since the start,
 * looked at the given minutes; a metric whose canary is significantly higher (98%) fails the
 * canary, otherwise it passes at the step's end. `[step]` is Kayenta's fixed horizon (one
 * judgement at the end of the canary's lifetime); every 10 minutes is its interval mode.
 */
function kayenta(run: Run, s: Scenario, looks: readonly number[]): Outcome {
  for (const t of looks) {
    const c = run.canary.slice(0, t).filter((m) => m.present);
    const b = run.baseline.slice(0, t).filter((m) => m.present);
    const errors = mannWhitney(
      c.map((m) => m.errors / m.requests),
      b.map((m) => m.errors / m.requests),
    );
    const latency = mannWhitney(
      c.map((m) => m.p99),
      b.map((m) => m.p99),
    );
    if ((errors.p < 0.02 && errors.higher) || (latency.p < 0.02 && latency.higher)) return { verdict: 'fail', minute: t };
  }
  return { verdict: 'pass', minute: s.step };
}

/** Every 10 minutes within the step, and at its end. */
const every10 = (step: number) => [...Array.from({ length: Math.floor((step - 1) / 10) }, (_, i) => 10 * (i + 1)), step];

function threshold(run: Run, s: Scenario): Outcome {
  let errorStreak = 0;
  let latencyStreak = 0;
  for (let m = 0; m < s.step; m++) {
    const c = run.canary[m]!;
    const b = run.baseline[m]!;
    if (!c.present || !b.present) continue; // missing data: the alarm keeps its state
    errorStreak = c.errors / c.requests > (2 * b.errors) / b.requests ? errorStreak + 1 : 0;
    latencyStreak = c.p99 > 1.2 * b.p99 ? latencyStreak + 1 : 0;
    if (errorStreak >= 3 || latencyStreak >= 3) return { verdict: 'fail', minute: m + 1 };
  }
  return { verdict: 'pass', minute: s.step };
}

const OURS = 'ours';
const KAYENTA_FIXED = 'Kayenta-style MWU, once at the step end';
const KAYENTA_10 = 'Kayenta-style MWU, every 10 min';
const THRESHOLD = 'threshold 3×1 min';
const EXACT = 'exact single look at the step end, errors, α 0.025 (ceiling)';

const JUDGES: readonly { name: string; run: (r: Run, s: Scenario) => Outcome }[] = [
  { name: OURS, run: ours },
  { name: KAYENTA_FIXED, run: (r, s) => kayenta(r, s, [s.step]) },
  { name: KAYENTA_10, run: (r, s) => kayenta(r, s, every10(s.step)) },
  { name: THRESHOLD, run: threshold },
  { name: EXACT, run: singleLook },
];

/** `--only REGEX` judges only the matching scenarios, `--judges PREFIX,…` only those judges; either prints and writes nothing. */
const ONLY = argValue('--only') !== undefined ? new RegExp(argValue('--only')!) : null;
const JUDGE_PREFIXES = argValue('--judges')?.split(',') ?? null;
const ACTIVE_JUDGES = JUDGE_PREFIXES ? JUDGES.filter((j) => JUDGE_PREFIXES.some((p) => j.name.toLowerCase().startsWith(p.toLowerCase()))) : JUDGES;

// ---- runs, in worker processes ---------------------------------------------------------

/** One run as a worker reports it. */
interface RunRecord {
  /** Per active judge. */
  o: Outcome[];
  /** Per active judge: canary requests served while the regression was active, up to the verdict. */
  exposed: number[];
  /** Regression rows: '1' at index h − 1 when the exact single look after h minutes rejects. */
  looks?: string;
  /** Canary errors (judged) over the whole step, and the judged requests and baseline errors: the traffic a planner would measure. */
  canaryErrors: number;
  requests: number;
  baselineErrors: number;
  baselineRequests: number;
}

interface TaskResult {
  scenario: number;
  from: number;
  records: RunRecord[];
  /** Per active judge, ms summed over the runs. */
  ms: number[];
  /** CPU time of the task (user + system), s. */
  cpu: number;
}

function runTask(scenario: number, from: number, to: number): TaskResult {
  const cpu0 = process.cpuUsage();
  const s = SCENARIOS[scenario]!;
  const ms = ACTIVE_JUDGES.map(() => 0);
  const records: RunRecord[] = [];
  for (let i = from; i < to; i++) {
    const run = simulateRun(s, hash(`${s.name}#${i}`));
    const o: Outcome[] = [];
    const exposed: number[] = [];
    ACTIVE_JUDGES.forEach((j, k) => {
      const t0 = performance.now();
      const x = j.run(run, s);
      ms[k]! += performance.now() - t0;
      let e = 0;
      for (let m = s.onset; m <= x.minute; m++) e += run.served[m - 1]!;
      o.push(x);
      exposed.push(e);
    });
    const totals = errorCounts(run, s.step);
    const record: RunRecord = { o, exposed, canaryErrors: totals.c, requests: totals.nc + totals.nb, baselineErrors: totals.b, baselineRequests: totals.nb };
    if (s.kind === 'regression' && s.errorMultiplier !== 1) {
      let looks = '';
      for (let h = 1; h <= s.step; h++) looks += h >= s.onset && exactLook(run, h) ? '1' : '0';
      record.looks = looks;
    }
    records.push(record);
  }
  const cpu = process.cpuUsage(cpu0);
  return { scenario, from, records, ms, cpu: (cpu.user + cpu.system) / 1e6 };
}

function workerMain(): void {
  process.on('message', (task: { scenario: number; from: number; to: number } | 'exit') => {
    if (task === 'exit') process.exit(0);
    process.send!(runTask(task.scenario, task.from, task.to));
  });
}

/** Runs every task on `workers` forked processes, longest first; resolves with the results in task order. */
async function runAll(tasks: { scenario: number; from: number; to: number; cost: number }[], workers: number): Promise<TaskResult[]> {
  const order = tasks.map((t, i) => ({ t, i })).sort((a, b) => b.t.cost - a.t.cost);
  const results: TaskResult[] = new Array(tasks.length);
  let next = 0;
  let done = 0;
  const args = process.argv.slice(2).filter((a) => a !== '--no-write');
  return new Promise((resolve, reject) => {
    const children: ChildProcess[] = [];
    const feed = (child: ChildProcess) => {
      if (next >= order.length) {
        child.send('exit');
        return;
      }
      const { t, i } = order[next++]!;
      child.once('message', (r: TaskResult) => {
        results[i] = r;
        done++;
        if (done % 20 === 0 || done === tasks.length) process.stdout.write(`  ${done}/${tasks.length} tasks\n`);
        if (done === tasks.length) resolve(results);
        feed(child);
      });
      child.send({ scenario: t.scenario, from: t.from, to: t.to });
    };
    for (let w = 0; w < Math.max(1, Math.min(workers, order.length)); w++) {
      // A larger young generation: the judge allocates many short-lived objects per look.
      const child = fork(SELF, ['--worker', ...args], { execArgv: [...process.execArgv, '--max-semi-space-size=64'] });
      child.on('error', reject);
      child.on('exit', (code) => {
        if (code !== 0 && done < tasks.length) reject(new Error(`worker exited with ${code}`));
      });
      children.push(child);
      feed(child);
    }
  });
}

// ---- statistics ------------------------------------------------------------------------

interface Row {
  scenario: Scenario;
  judge: string;
  runs: number;
  /** Runs still being judged at the onset (all runs when the regression starts with the canary). */
  eligible: number;
  failRate: number;
  /** Failed by the errors test alone (ours). */
  errorsAloneFailRate: number;
  /** Detected (failed at or after the onset) within the step, resp. within 30 minutes of the onset, over the eligible runs. */
  power: number;
  power30: number;
  passRate: number;
  /** Passes at or after the onset (a regression promoted), over all runs. */
  passAfterOnsetRate: number;
  /** Passes that relied on the no-events convention, resp. on the exact test at the horizon. */
  noEventsPassRate: number;
  boundPassRate: number;
  inconclusiveRate: number;
  /**
   * Minutes from the regression's onset to detection, over the eligible runs (undetected = ∞; in
   * A/A the onset is the canary start). A fail before the onset rolled back a version that was
   * still good: it counts in failRate but is no detection.
   */
  median: number;
  p90: number;
  /** Median canary requests served while the regression was active, up to detection (detected runs). */
  exposed: number;
  ms: number;
  /** Per run (1/0), for paired comparisons: detected at or after the onset, still judged at the onset. */
  detected: Uint8Array;
  eligibleMask: Uint8Array;
  passed: Uint8Array;
}

const quantileOf = (sorted: number[], q: number): number => (sorted.length === 0 ? NaN : nearestRank(sorted, q));

function rowOf(s: Scenario, judgeName: string, os: Outcome[], exposed: number[], ms: number): Row {
  const n = os.length;
  const eligibleIdx = os.map((o, i) => ({ o, i })).filter(({ o }) => o.minute >= s.onset || o.verdict === 'inconclusive');
  const eligible = eligibleIdx.length;
  const detection = eligibleIdx.map(({ o }) => (o.verdict === 'fail' ? o.minute - s.onset + 1 : Infinity)).sort((a, b) => a - b);
  const fails = os.map((o, i) => ({ o, e: exposed[i]! })).filter((x) => x.o.verdict === 'fail' && x.o.minute >= s.onset);
  const frac = (k: number) => k / n;
  return {
    scenario: s,
    judge: judgeName,
    runs: n,
    eligible,
    failRate: frac(os.filter((o) => o.verdict === 'fail').length),
    errorsAloneFailRate: frac(os.filter((o) => o.verdict === 'fail' && o.failed?.length === 1 && o.failed[0] === 'errors').length),
    power: detection.filter((m) => Number.isFinite(m)).length / Math.max(1, eligible),
    power30: detection.filter((m) => m <= 30).length / Math.max(1, eligible),
    passRate: frac(os.filter((o) => o.verdict === 'pass').length),
    passAfterOnsetRate: frac(os.filter((o) => o.verdict === 'pass' && o.minute >= s.onset).length),
    noEventsPassRate: frac(os.filter((o) => o.verdict === 'pass' && o.noEvents).length),
    boundPassRate: frac(os.filter((o) => o.verdict === 'pass' && o.bound).length),
    inconclusiveRate: frac(os.filter((o) => o.verdict === 'inconclusive').length),
    median: quantileOf(detection, 0.5),
    p90: quantileOf(detection, 0.9),
    exposed: quantileOf(
      fails.map((x) => x.e).sort((a, b) => a - b),
      0.5,
    ),
    ms: ms / n,
    detected: Uint8Array.from(os, (o) => (o.verdict === 'fail' && o.minute >= s.onset ? 1 : 0)),
    eligibleMask: Uint8Array.from(os, (o) => (o.minute >= s.onset || o.verdict === 'inconclusive' ? 1 : 0)),
    passed: Uint8Array.from(os, (o) => (o.verdict === 'pass' ? 1 : 0)),
  };
}

/**
 * The fastest possible median: the smallest h (minutes from the onset) at which the exact single
 * look after onset − 1 + h minutes rejects in at least half of the given runs; null if none within
 * the step. Also that look's power at the step's end.
 */
function fastestMedian(s: Scenario, records: RunRecord[]): number | null {
  if (records.length === 0 || records[0]!.looks === undefined) return null;
  for (let h = s.onset; h <= s.step; h++) {
    const hits = records.filter((r) => r.looks![h - 1] === '1').length;
    if (hits >= records.length / 2) return h - s.onset + 1;
  }
  return null;
}

// ---- judge cost per look ---------------------------------------------------------------

interface CostResult {
  warm: { median: number; p90: number };
  cold: { median: number; p90: number };
  noHorizon: { median: number };
  runs: number;
}

/**
 * `judge()` at look 60 of a 60-look horizon at 1000 canary req/min on 10/90, all default
 * metrics: warm = called once per look as the step calls it (the DP extends its memoised
 * prefix by one look), cold = the same call with nothing of that history memoised (a fresh
 * container), no horizon = the mixture alone.
 */
function measureCost(runs = 40): CostResult {
  const s = aa(1000, 0.1);
  const warm: number[] = [];
  const cold: number[] = [];
  const plain: number[] = [];
  const cumulative = (run: Run) => {
    const out: { c: ArmCounts; b: ArmCounts }[] = [];
    const c = { requests: 0, errors: 0, slow: 0, slowShift: 0 };
    const b = { requests: 0, errors: 0, slow: 0, slowShift: 0 };
    for (let m = 0; m < s.step; m++) {
      for (const [acc, x] of [
        [c, run.canary[m]!],
        [b, run.baseline[m]!],
      ] as const) {
        acc.requests += x.requests;
        acc.errors += x.errors;
        acc.slow += x.slow;
        acc.slowShift += x.slowShift;
      }
      out.push({ c: { ...c }, b: { ...b } });
    }
    return out;
  };
  // Every look judged on all default metrics from the start (the thresholds are fixed by then at this traffic).
  const histories: { looks: { c: ArmCounts; b: ArmCounts }[]; history: JudgeLook[] }[] = [];
  for (let i = 0; i < runs + 2; i++) {
    const looks = cumulative(simulateRun(s, hash(`cost#${i}`)));
    const history: JudgeLook[] = [];
    for (let k = 0; k < s.step - 1; k++) history.push(judge(looks[k]!.c, looks[k]!.b, s.weight, {}, { horizonLooks: s.step, history }).look!);
    // Warm: look 60 right after look 59, as the step calls it.
    const last = looks[s.step - 1]!;
    const t0 = performance.now();
    judge(last.c, last.b, s.weight, {}, { horizonLooks: s.step, history });
    warm.push(performance.now() - t0);
    const t1 = performance.now();
    judge(last.c, last.b, s.weight, {});
    plain.push(performance.now() - t1);
    histories.push({ looks, history });
  }
  // Cold: the memo keeps the last 64 prefixes, so every history but the last two has been evicted by now.
  for (let i = 0; i < runs; i++) {
    const { looks, history } = histories[i]!;
    const last = looks[s.step - 1]!;
    const t0 = performance.now();
    judge(last.c, last.b, s.weight, {}, { horizonLooks: s.step, history });
    cold.push(performance.now() - t0);
  }
  const stats = (x: number[]) => {
    const sorted = [...x].sort((a, b) => a - b);
    return { median: quantileOf(sorted, 0.5), p90: quantileOf(sorted, 0.9) };
  };
  return { warm: stats(warm), cold: stats(cold), noHorizon: { median: stats(plain).median }, runs };
}

// ---- report ----------------------------------------------------------------------------

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const pct2 = (x: number) => `${(100 * x).toFixed(2)}%`;
const minutesCell = (x: number, step: number) => (Number.isFinite(x) ? String(x) : `>${step}`);
const count = (x: number) => (Number.isNaN(x) ? '–' : String(Math.round(x)));
const yes = (b: boolean) => (b ? '**met**' : '**not met**');
/** A share as words where it is a simple fraction, else a percentage. */
const share = (x: number) => ({ 0.1: 'a tenth', 0.25: 'a quarter', 0.5: 'half' })[x] ?? pct(x);

async function main(): Promise<void> {
  const started = Date.now();
  const chosen = SCENARIOS.map((s, i) => ({ s, i })).filter(({ s }) => !ONLY || ONLY.test(s.name));
  const tasks = chosen.flatMap(({ s, i }) => {
    const out: { scenario: number; from: number; to: number; cost: number }[] = [];
    // Rough cost: looks judged times events per look (ours dominates).
    const cost = s.step * (1 + Math.log10(s.canaryPerMinute / s.weight)) * (s.kind === 'aa' ? 2 : 1);
    const runs = s.runs ?? RUNS;
    for (let from = 0; from < runs; from += CHUNK) out.push({ scenario: i, from, to: Math.min(runs, from + CHUNK), cost });
    return out;
  });
  let nproc = cpus().length;
  try {
    nproc = Number(execSync('nproc').toString().trim()) || nproc;
  } catch {
    // keep os.cpus()
  }
  console.log(`${chosen.length} scenarios × ${RUNS} runs, ${tasks.length} tasks on ${nproc} worker processes`);
  const load0 = loadavg()[0]!;
  const results = await runAll(tasks, nproc);
  const simulated = (Date.now() - started) / 1000;
  const cpuSeconds = results.reduce((a, r) => a + r.cpu, 0);
  const load1 = loadavg()[0]!;

  const rows: Row[] = [];
  const records = new Map<Scenario, RunRecord[]>();
  for (const { s, i } of chosen) {
    const parts = results.filter((r) => r.scenario === i).sort((a, b) => a.from - b.from);
    const recs = parts.flatMap((p) => p.records);
    records.set(s, recs);
    ACTIVE_JUDGES.forEach((j, k) => {
      const ms = parts.reduce((a, p) => a + p.ms[k]!, 0);
      rows.push(
        rowOf(
          s,
          j.name,
          recs.map((r) => r.o[k]!),
          recs.map((r) => r.exposed[k]!),
          ms,
        ),
      );
    });
  }
  const find = (s: Scenario, judgeName: string) => rows.find((r) => r.scenario === s && r.judge === judgeName);
  const fastest = new Map<Scenario, number | null>();
  for (const { s } of chosen) {
    if (s.kind !== 'regression' || s.errorMultiplier === 1) continue;
    const recs = records.get(s)!;
    const o = find(s, OURS);
    const k = ACTIVE_JUDGES.findIndex((j) => j.name === OURS);
    // Delayed onset: over the runs ours still judges at the onset.
    const still = o && k >= 0 ? recs.filter((r) => r.o[k]!.minute >= s.onset || r.o[k]!.verdict === 'inconclusive') : recs;
    fastest.set(s, fastestMedian(s, still));
  }

  for (const r of rows) {
    console.log(
      `${r.scenario.name} | ${r.judge} | runs ${r.runs} | fail ${pct(r.failRate)} (errors alone ${pct(r.errorsAloneFailRate)}) | power ≤30 ${pct(r.power30)} | power ${pct(r.power)} | median ${minutesCell(r.median, r.scenario.step)} | p90 ${minutesCell(r.p90, r.scenario.step)} | pass ${pct(r.passRate)} | ${r.ms.toFixed(2)} ms/run` +
        (r.judge === OURS && fastest.has(r.scenario) ? ` | fastest possible median ${fastest.get(r.scenario) ?? '–'}` : ''),
    );
  }
  if (ONLY || JUDGE_PREFIXES) return;

  const cost = measureCost();
  const elapsed = (Date.now() - started) / 1000;

  const aaRows = rows.filter((r) => r.scenario.kind === 'aa');
  const regRows = rows.filter((r) => r.scenario.kind === 'regression');
  const oursOf = (s: Scenario) => find(s, OURS)!;
  const exactOf = (s: Scenario) => find(s, EXACT)!;
  const byName = (name: string) => SCENARIOS.find((s) => s.name === name)!;
  const se = (p: number, n: number) => Math.sqrt((p * (1 - p)) / n);

  const aaTable = [
    '| scenario | judge | false-fail | on errors alone | pass (promoted) within the step | of which by the exact test at the last look | inconclusive at the step end | canary errors in the step (mean) |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...aaRows.map((r) => {
      const recs = records.get(r.scenario)!;
      const errs = recs.reduce((a, x) => a + x.canaryErrors, 0) / recs.length;
      const mine = r.judge === OURS;
      return `| ${r.scenario.name} | ${r.judge} | ${pct(r.failRate)} | ${mine ? pct(r.errorsAloneFailRate) : '–'} | ${pct(r.passRate)}${mine && r.noEventsPassRate > 0 ? ` (${pct(r.noEventsPassRate)} no-events rule)` : ''} | ${mine ? pct(r.boundPassRate) : '–'} | ${pct(r.inconclusiveRate)} | ${errs.toFixed(1)} |`;
    }),
  ];
  const regTable = [
    '| scenario | judge | power ≤30 min | power within the step | median min to detection | p90 min | fastest possible median (single look) | canary req. exposed (median, detected) | pass (regression promoted) | inconclusive at the step end |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...regRows.map((r) => {
      const s = r.scenario;
      const f = r.judge === OURS && fastest.has(s) ? fastest.get(s) : undefined;
      const fCell = f === undefined ? '' : f === null ? `>${s.step - s.onset + 1}` : String(f);
      const promoted = s.onset > 1 ? `${pct2(r.passAfterOnsetRate)} after the onset, ${pct2(r.passRate - r.passAfterOnsetRate)} before` : pct2(r.passRate);
      return `| ${s.name}${r.runs !== RUNS ? ` (${r.runs} runs)` : ''} | ${r.judge} | ${pct(r.power30)} | ${pct(r.power)} | ${minutesCell(r.median, s.step - s.onset + 1)} | ${minutesCell(r.p90, s.step - s.onset + 1)} | ${fCell} | ${count(r.exposed)} | ${promoted} | ${pct(r.inconclusiveRate)} |`;
    }),
  ];

  // ---- targets ----
  const targets: string[] = [];
  const noise = (p: number) => `±${pct(2 * se(p, RUNS))} at 2σ`;
  {
    const oursAA = aaRows.filter((r) => r.judge === OURS && r.scenario.step === DEFAULT_STEP);
    const worst = oursAA.reduce((a, r) => (r.failRate > a.failRate ? r : a));
    const worstErr = oursAA.reduce((a, r) => (r.errorsAloneFailRate > a.errorsAloneFailRate ? r : a));
    const ok = oursAA.every((r) => r.failRate <= 0.05 && r.errorsAloneFailRate <= 0.025);
    const withinNoise = oursAA.every((r) => r.failRate <= 0.05 + 2 * se(0.05, r.runs) && r.errorsAloneFailRate <= 0.025 + 2 * se(0.025, r.runs));
    const healthy = aaRows.filter((r) => r.judge === OURS && r.scenario.step !== DEFAULT_STEP);
    targets.push(
      `1. False-fail ≤ 5% family-wise and ≤ 2.5% on errors (failed by the errors test alone) in every A/A variant: ${yes(ok)}${!ok && withinNoise ? ' (the excess is within 2σ of binomial noise)' : ''} — family-wise at most ${pct(worst.failRate)} (${worst.scenario.name}), on errors at most ${pct(worstErr.errorsAloneFailRate)} (${worstErr.scenario.name}); per variant ` +
        oursAA.map((r) => `${r.scenario.name.replace('A/A ', '')} ${pct(r.failRate)} / ${pct(r.errorsAloneFailRate)}`).join(', ') +
        `. Binomial noise on ${RUNS} runs: ${noise(0.05)} at 5%, ${noise(0.025)} at 2.5%. The healthy-pass rows (other steps): family-wise at most ${pct(Math.max(...healthy.map((r) => r.failRate)))}, on errors at most ${pct(Math.max(...healthy.map((r) => r.errorsAloneFailRate)))}.`,
    );
  }
  {
    const cases = [
      { s: x2(100, 0.1, 30), want: 0.87, what: 'by minute 30 with a 30-minute step' },
      { s: x2(100, 0.1), want: 0.97, what: 'by minute 60 with a 60-minute step' },
      { s: x2(100, 0.1, 15), want: 0.6, what: 'within a 15-minute step' },
    ].map((c) => {
      const s = byName(c.s.name);
      const o = oursOf(s);
      const e = exactOf(s);
      return { ...c, o, e, ok: o.power >= c.want };
    });
    targets.push(
      `2. Errors ×2 at 100 canary req/min, 10/90, base 0.5%: ${yes(cases.every((c) => c.ok))} — ` +
        cases.map((c) => `${c.what} ${pct(c.o.power)} (target ≥ ${pct(c.want)}; ceiling, the exact single look at the step end on the same runs: ${pct(c.e.power)})`).join('; ') +
        '.',
    );
  }
  {
    const x5 = oursOf(byName('errors ×5'));
    const tail = oursOf(byName('tail: 2% of requests +500 ms'));
    const f5 = fastest.get(byName('errors ×5'));
    targets.push(
      `3. Errors ×5 median detection ≤ 4 min, tail regression ≤ 5 min: ${yes(x5.median <= 4 && tail.median <= 5)} — errors ×5 median ${minutesCell(x5.median, 60)} min (p90 ${minutesCell(x5.p90, 60)}; fastest possible median ${f5 ?? '–'}), tail median ${minutesCell(tail.median, 60)} min (p90 ${minutesCell(tail.p90, 60)}).`,
    );
  }
  {
    const per = regRows
      .filter((r) => r.judge === OURS && fastest.has(r.scenario))
      .map((o) => {
        const f = fastest.get(o.scenario) ?? null;
        const decided = f !== null;
        const ok = !decided || o.median <= 2 * f;
        return { o, f, decided, ok };
      });
    const decided = per.filter((x) => x.decided);
    targets.push(
      `4. Median detection ≤ 2× the fastest possible median (the smallest h at which the exact single look at h, α 0.025, detects in ≥ 50% of runs; delayed onset: over the runs still judged at the onset): ${yes(decided.every((x) => x.ok))} — ${decided.filter((x) => x.ok).length} of ${decided.length} error regressions with a fastest median within the step: ` +
        per
          .map((x) => `${x.o.scenario.name} ${minutesCell(x.o.median, x.o.scenario.step)} vs ${x.f === null ? `>${x.o.scenario.step - x.o.scenario.onset + 1} (n/a)` : `${x.f} (${(x.o.median / x.f).toFixed(1)}×)`}${x.decided ? (x.ok ? ' ✔' : ' ✘') : ''}`)
          .join('; ') +
        '. Latency regressions: no single-look ceiling computed here.',
    );
  }
  const healthyCases = [
    { s: aa(1000, 0.1, 10), want: 0.95 },
    { s: aa(100, 0.1), want: 0.9 },
    { s: aa(100, 0.1, 45), want: 0.75 },
    { s: aa(20, 0.1, 240), want: 0.8 },
    { s: aa(300, 0.1, 20), want: 0.85 },
    { s: aa(1000, 0.1, 6), want: 0.85 },
  ].map((c) => {
    const s = byName(c.s.name);
    const recs = records.get(s)!;
    return { ...c, s, o: oursOf(s), errors: recs.reduce((a, x) => a + x.canaryErrors, 0) / recs.length };
  });
  targets.push(
    `5. Healthy canary promoted within its step: ${yes(healthyCases.every((c) => c.o.passRate >= c.want))} — ` +
      healthyCases.map((c) => `${c.s.canaryPerMinute}/min in a ${c.s.step}-min step (${c.errors.toFixed(0)} canary errors expected) ${pct(c.o.passRate)} (target ≥ ${pct(c.want)}) ${c.o.passRate >= c.want ? '✔' : '✘'}`).join('; ') +
      `. Noise: ${noise(0.9)} at 90%.`,
  );
  {
    const x2rows = regRows.filter((r) => r.judge === OURS && r.scenario.errorMultiplier === 2 && r.scenario.latencyMultiplier === 1);
    const x5rows = regRows.filter((r) => r.judge === OURS && r.scenario.errorMultiplier === 5);
    const latRows = regRows.filter((r) => r.judge === OURS && (r.scenario.latencyMultiplier === 1.2 || r.scenario.tailFraction > 0));
    const worstX2 = Math.max(...x2rows.map((r) => r.passAfterOnsetRate));
    const worstX5 = Math.max(...x5rows.map((r) => r.passAfterOnsetRate));
    const worstLat = Math.max(...latRows.map((r) => r.passAfterOnsetRate));
    const delayed = x5rows.filter((r) => r.scenario.onset > 1);
    targets.push(
      `6. Regressions promoted: errors ×2 ≤ 0.5% at every rate and split, ×5 ≤ 0.1%, latency +20% and tail ≤ 0.5%: ${yes(worstX2 <= 0.005 && worstX5 <= 0.001 && worstLat <= 0.005)} — ×2 at most ${pct2(worstX2)} (` +
        x2rows.map((r) => `${r.scenario.name.replace('errors ×2, ', '')} ${pct2(r.passRate)}`).join(', ') +
        `); ×5 at most ${pct2(worstX5)}` +
        (delayed.length > 0 ? ` (from minute 20: ${delayed.map((r) => `${pct2(r.passAfterOnsetRate)} after the onset; ${pct2(r.passRate - r.passAfterOnsetRate)} promoted before it, while still healthy`).join('')})` : '') +
        `; latency +20% and tail at most ${pct2(worstLat)}. On ${RUNS} runs 0.1% is ${Math.round(0.001 * RUNS)} runs.`,
    );
  }
  const planRows: string[] = [];
  {
    const pairs = [
      { healthy: aa(1000, 0.1, 10), bad: x2(1000, 0.1, 10) },
      { healthy: aa(100, 0.1), bad: x2(100, 0.1) },
      { healthy: aa(100, 0.1, 45), bad: x2(100, 0.1, 45) },
      { healthy: aa(20, 0.1, 240), bad: x2(20, 0.1, 240) },
    ].map(({ healthy, bad }) => {
      const h = byName(healthy.name);
      const b = byName(bad.name);
      const recs = records.get(h)!;
      // The traffic as a planner measures it: judged requests per minute, the baseline's error rate.
      const requestsPerMinute = recs.reduce((a, r) => a + r.requests, 0) / recs.length / h.step;
      const errorRate = recs.reduce((a, r) => a + r.baselineErrors, 0) / recs.reduce((a, r) => a + r.baselineRequests, 0);
      const est = estimateStep({ traffic: { requestsPerMinute, errorRate }, weight: h.weight, looks: h.step, pollSeconds: 60 }, [2]);
      const caught = est.caught.find((c) => c.ratio === 2)?.chance ?? NaN;
      const mh = oursOf(h).passRate;
      const mb = oursOf(b).power;
      const ok = Math.abs(est.healthyPass - mh) <= 0.05 && Math.abs(caught - mb) <= 0.05;
      return { h, requestsPerMinute, errorRate, est, caught, mh, mb, ok };
    });
    planRows.push(
      '| step | traffic given to the planner | planned healthy pass | measured | planned ×2 caught | measured | within ±5 points |',
      '| --- | --- | ---: | ---: | ---: | ---: | :---: |',
      ...pairs.map(
        (p) =>
          `| ${p.h.canaryPerMinute} canary req/min, ${split(p.h.weight)}, ${p.h.step} min | ${p.requestsPerMinute.toFixed(0)} req/min, errors ${pct2(p.errorRate)} | ${pct(p.est.healthyPass)} | ${pct(p.mh)} | ${pct(p.caught)} | ${pct(p.mb)} | ${p.ok ? '✔' : '✘'} |`,
      ),
    );
    targets.push(
      `7. Planner agreement (\`estimateStep\` of lambdas/lib/judge/plan.ts, given the traffic the runs show: their mean judged requests per minute and the baseline's error rate, incidents included) within ±5 points: ${yes(pairs.every((p) => p.ok))} — ` +
        pairs.map((p) => `${p.h.canaryPerMinute}/min ${p.h.step} min: healthy ${pct(p.est.healthyPass)} planned vs ${pct(p.mh)}, ×2 ${pct(p.caught)} vs ${pct(p.mb)} ${p.ok ? '✔' : '✘'}`).join('; ') +
        '.',
    );
  }
  {
    const per = regRows
      .filter((r) => r.judge === OURS)
      .map((o) => {
        const k = find(o.scenario, KAYENTA_10)!;
        // Paired on the same runs (delayed onset: those both judges still judged at the onset):
        // SE of the mean difference of the detection indicators.
        let n = 0;
        let sum = 0;
        let sum2 = 0;
        let hitsO = 0;
        let hitsK = 0;
        for (let i = 0; i < o.detected.length; i++) {
          if (!o.eligibleMask[i] || !k.eligibleMask[i]) continue;
          const d = o.detected[i]! - k.detected[i]!;
          n++;
          hitsO += o.detected[i]!;
          hitsK += k.detected[i]!;
          sum += d;
          sum2 += d * d;
        }
        const mean = sum / Math.max(1, n);
        const seD = Math.sqrt(Math.max(0, sum2 / Math.max(1, n) - mean * mean) / Math.max(1, n));
        const po = hitsO / Math.max(1, n);
        const pk = hitsK / Math.max(1, n);
        return { o, k, po, pk, seD, ok: po >= pk - 2 * seD };
      });
    const healthy = aaRows
      .filter((r) => r.judge === OURS && r.scenario.canaryPerMinute === 1000)
      .map((o) => {
        const k = find(o.scenario, KAYENTA_10)!;
        const n = o.passed.length;
        let sum = 0;
        let sum2 = 0;
        for (let i = 0; i < n; i++) {
          const d = o.passed[i]! - k.passed[i]!;
          sum += d;
          sum2 += d * d;
        }
        const mean = sum / n;
        const seD = Math.sqrt(Math.max(0, sum2 / n - mean * mean) / n);
        return { o, k, seD, ok: o.passRate >= k.passRate - 2 * seD };
      });
    targets.push(
      `8. Against the Kayenta-style judge re-checking every 10 min, same runs: at least its power in every regression row (within 2·SE of the paired difference) and at least as many healthy canaries promoted at 1000 req/min: ${yes(per.every((x) => x.ok) && healthy.every((x) => x.ok))} — power ` +
        per.map((x) => `${x.o.scenario.name} ${pct(x.po)} vs ${pct(x.pk)}${x.ok ? '' : ` ✘ (2·SE ${pct(2 * x.seD)})`}`).join('; ') +
        '; healthy promoted at 1000 req/min ' +
        healthy.map((x) => `${x.o.scenario.name.replace('A/A ', '')} ${pct(x.o.passRate)} vs ${pct(x.k.passRate)}${x.ok ? ' ✔' : ' ✘'}`).join('; ') +
        '.',
    );
  }
  targets.push(
    `- Judge cost per look (\`judge()\` at look 60 of a 60-look horizon, 1000 canary req/min, 10/90, all default metrics, median of ${cost.runs} runs) under 1 ms: ${yes(cost.warm.median < 1)} — called once per look as the step calls it ${cost.warm.median.toFixed(2)} ms (p90 ${cost.warm.p90.toFixed(2)}); cold, nothing of the history memoised (a fresh container) ${cost.cold.median.toFixed(2)} ms (p90 ${cost.cold.p90.toFixed(2)}); without a horizon ${cost.noHorizon.median.toFixed(2)} ms.`,
    `- Full run under 15 minutes: ${yes(elapsed < 900)} — ${(elapsed / 60).toFixed(1)} min (${simulated.toFixed(0)} s for the runs on ${nproc} worker processes; they used ${(cpuSeconds / 60).toFixed(1)} CPU-minutes, ${(cpuSeconds / nproc / 60).toFixed(1)} min of ${nproc} otherwise idle CPUs; 1-minute load average ${load0.toFixed(1)} at the start, ${load1.toFixed(1)} at the end${Math.max(load0, load1) > nproc + 0.5 ? ': other work shared the machine' : ''}).`,
  );

  const noEventPasses = regRows.filter((r) => r.judge === OURS && r.noEventsPassRate > 0);
  const notes = [
    '',
    'Notes:',
    `- The ceilings are the exact one-sided binomial test of the errors looked at once, at α 0.025 (the errors' share of the family-wise 0.05), on the same runs. Whether a test has rejected by minute h is decided by the data up to minute h, so by Neyman–Pearson no test of the errors at that level can have more power by then than the likelihood-ratio test on the minute-h counts, i.e. that one look — which is valid only if nobody looks earlier. Every earlier look spends some alpha: ours keeps ${share(MIXTURE_SHARE)} of the errors' alpha for the anytime-valid mixture at every look and spends the rest over the horizon (Hwang–Shih–DeCani γ = −2).`,
    '- Delayed onset (errors ×5 from minute 20): power and minutes to detection count over the runs a judge was still judging at the onset (ours may have promoted the still-healthy canary earlier, or false-failed it); "promoted" splits passes into those after the onset (the regression promoted) and before it.',
    '- A Kayenta-style judge can only detect at its looks, so its minutes to detection are multiples of 10 (or the step end). Minutes count from the onset of the regression.',
    '- Target 8, healthy canaries: a Kayenta-style judge promotes every canary it has not failed by the step end (it never shows a canary to be within a margin), so in a step of 10 minutes or less, where it looks once, it promotes all but its false fails; ours promotes only once every metric is shown within its margin.',
    noEventPasses.length > 0
      ? `- The no-events rule (a metric with no events in either arm passes once the canary shows, anytime-valid, a rate below ${100 * DEFAULT_JUDGE_CONFIG.zeroEventTolerance}%) promoted regressions: ${noEventPasses.map((r) => `${r.scenario.name} ${pct(r.noEventsPassRate)}`).join(', ')} of runs.`
      : `- The no-events rule (pass once the canary shows, anytime-valid, a rate below ${100 * DEFAULT_JUDGE_CONFIG.zeroEventTolerance}%) promoted no regression in these runs.`,
    '- At 5 canary req/min on 50/50 the baseline never reaches its first 1000 requests within 60 minutes, so latency is never judged there and ours cannot pass (by design: never a silent pass).',
  ];

  const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
  const timing = ACTIVE_JUDGES.map((j) => {
    const rs = rows.filter((r) => r.judge === j.name);
    return `${j.name} ${(rs.reduce((a, r) => a + r.ms, 0) / rs.length).toFixed(2)} ms/run`;
  }).join(', ');
  const cfg = DEFAULT_JUDGE_CONFIG;
  const section = [
    START,
    '## Canary judge',
    '',
    `- date: ${new Date().toISOString()}`,
    `- machine: ${nproc} CPUs (\`nproc\`), ${cpu}, ${process.platform}/${process.arch}; Node ${process.version}`,
    `- command: \`npx tsx bench/judge.ts\` (${RUNS} seeded runs per scenario, every judge on the same runs; ${elapsed.toFixed(0)} s in all on ${nproc} worker processes; judge time per run: ${timing})`,
    `- data: per arm per minute, CloudWatch-shaped (requests, errors, p99, counts of requests over the baseline's p99 and p90, read from its first ${MIN_THRESHOLD_REQUESTS} requests beside the canary); log-normal latency (median ${LATENCY_MEDIAN_MS} ms, σ ${LATENCY_SIGMA}); base error rate ${pct(BASE_ERROR_RATE)}; traffic log-normal per minute with ×3 bursts; 2% of minutes a shared incident (both arms ×4 errors, ×1.3 latency); 3% of minutes without a datapoint; each run lasts its step (60 minutes unless the name says otherwise), a look a minute`,
    `- judges: ours = \`judge()\` with defaults after every minute on cumulative counts, given the step's horizon (\`horizonLooks\` = the step's minutes) and its earlier looks, as the canary step calls it: fail side alpha ${cfg.alpha} (${cfg.alpha / 2} for errors, ${cfg.alpha / 4} each for latency over the p99 and over the p90), the errors' alpha split between the anytime-valid mixture at every look (${share(MIXTURE_SHARE)} of it) and an exact group-sequential test spending the rest over the horizon; pass side non-inferiority within margins (passRatio ${cfg.passRatio}, the latency shift ${1 + (cfg.passRatio - 1) / 2}; at least +${100 * cfg.maxErrorRateIncrease} points of errors and +${100 * cfg.maxSlowShareIncrease} points of slow requests), beta ${cfg.beta} per test, ${share(PASS_MIXTURE_SHARE)} of it spent by the anytime-valid mixture at every look and the rest by one exact binomial test at the horizon's last look; minCanaryRequests ${cfg.minCanaryRequests}. Kayenta-style = Mann-Whitney U, two-sided 98%, on per-minute error rates and per-minute p99 since the start, judged once at the step end (fixed horizon) or re-checked every 10 min; threshold = 3 consecutive minutes of canary error rate > 2× baseline or canary p99 > 1.2× baseline. Each stops at its first verdict: a fail rolls back, a pass promotes; Kayenta-style and threshold pass at the step end when they have not failed. The exact single look (errors only) is the ceiling, not a judge one could run while looking every minute`,
    '- regressions: 100 canary req/min on a 10/90 split over a 60-minute step unless the name says otherwise; minutes to detection count from the onset of the regression (the canary start unless the name says otherwise), over all runs (an undetected run counts as more than the step); exposure counts canary requests served while the regression was active, up to the detecting minute',
    '',
    '### A/A (no difference between the arms)',
    '',
    ...aaTable,
    '',
    '### Regressions',
    '',
    ...regTable,
    ...(planRows.length > 0 ? ['', '### The planner against the runs', '', ...planRows] : []),
    '',
    '### Targets (issue 13)',
    '',
    ...targets,
    ...notes,
    END,
  ].join('\n');

  console.log(`\n${section}\n`);
  if (process.argv.includes('--no-write')) return;
  writeResultsSection(RESULTS, START, END, section);
  removeHandSection();
  console.log(`wrote ${RESULTS}`);
}

/** The hand-measured horizon section is superseded by the generated one. */
function removeHandSection(): void {
  const text = readFileSync(RESULTS, 'utf8');
  const from = text.indexOf(HAND_START);
  const to = text.indexOf(HAND_END);
  if (from < 0 || to < from) return;
  const before = text.slice(0, from).trimEnd();
  const after = text.slice(to + HAND_END.length).trimStart();
  writeFileSync(RESULTS, after ? `${before}\n\n${after}` : `${before}\n`);
}

if (process.argv.includes('--worker')) workerMain();
else await main();
