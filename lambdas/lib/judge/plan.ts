/**
 * What a service's traffic allows a canary step: the figures behind `tagflow plan`, the default
 * bake (a step without `maxBakeSeconds` bakes as long as its traffic needs) and the estimate the
 * first look of every step records.
 *
 * Two ways to the same figures:
 * - `estimateStep`, closed form, cheap enough for every first look. At the traffic most services
 *   have, a healthy canary passes by the pass side's exact test at the bake bound (`judge.ts`), so
 *   the chance it passes within the bake is the chance that test passes. Per test — errors at the
 *   live version's rate; latency's tail and shift counts, over the baseline's p99 and p90, about
 *   1% and 10% of requests by construction — with n events in the step the canary count is
 *   Binomial(n, s) for a healthy canary (s its share of requests), and the test passes when it is
 *   at most c, the largest count with P(Binomial(n, q(m)) ≤ c) ≤ β/2, q(m) = m·s / (m·s + 1 − s)
 *   at the margin m. The canary passes when every test does (taken as independent); n follows the
 *   traffic's Poisson spread, averaged over three Gauss–Hermite points. The mixture can pass
 *   earlier and a false fail can stop a healthy canary first (at most alpha): the two move the
 *   figure by a few points at most either way, which `simulateStep` shows. Detection of errors
 *   ×r: the exact single look at the bound at the fail side's share of the errors' alpha (the
 *   group-sequential test comes within a point or two of it, `spending.ts`); how fast: the first
 *   look at which a single look at the alpha spent by then detects in half the runs.
 * - `simulateStep`: the real `judge()`, look by look as the canary step calls it, on seeded
 *   simulated series at that traffic (Poisson requests per look, binomial errors and slow
 *   counts, latency judged once the baseline's first MIN_THRESHOLD_REQUESTS requests fixed its
 *   thresholds): what the closed form approximates, at a cost of milliseconds per run.
 *
 * The default bake is the shortest whole number of looks at which `estimateStep` gives a healthy
 * canary PLAN_TARGET (95%), which at a 10% step lands near 30 expected canary errors (the rule of
 * thumb any honest rule needs: about 30 canary errors to promote 90% of healthy canaries while
 * ×2 stays below 0.5%), capped by the step's cap; a cap that binds says so.
 */
import { judge, MIXTURE_SHARE, resolveConfig } from './judge.js';
import { binomial, poisson, rng } from './sampling.js';
import { binomialLowerTail, hsdSpent } from './spending.js';
import type { ArmCounts, JudgeConfig, JudgeLook } from './types.js';

/** Fewer baseline requests than this make a p99 too noisy to fix a latency threshold on (it would be one of the few slowest). */
export const MIN_THRESHOLD_REQUESTS = 1000;

/** The healthy-pass chance the default bake aims for. */
export const PLAN_TARGET = 0.95;

/** Shares of requests over the latency thresholds, the baseline's p99 and p90. */
const TAIL_SHARE = 0.01;
const SHIFT_SHARE = 0.1;

/** Three-point Gauss–Hermite rule for a normal spread: offsets in standard deviations, weights. */
const SPREAD: readonly (readonly [number, number])[] = [
  [-Math.sqrt(3), 1 / 6],
  [0, 2 / 3],
  [Math.sqrt(3), 1 / 6],
];

/** The live version's traffic, as measured over a recent window. */
export interface TrafficProfile {
  /** Requests per minute to the whole environment (canary and baseline together). */
  requestsPerMinute: number;
  /** The share of requests that fail. */
  errorRate: number;
}

export interface StepPlanInput {
  traffic: TrafficProfile;
  /** The canary's share of traffic in the step, strictly between 0 and 1. */
  weight: number;
  /** The looks the step's bake allows (maxBakeSeconds / pollSeconds). */
  looks: number;
  pollSeconds: number;
  /** The judge's settings (defaults otherwise); latency is counted when `metrics` has it. */
  judge?: Partial<JudgeConfig>;
}

export interface Detection {
  /** The canary's error rate over the baseline's. */
  ratio: number;
  /** The chance the step fails it within its bake. */
  chance: number;
  /** About when half the runs have caught it (null: fewer than half ever do). */
  medianMinutes: number | null;
}

export interface StepEstimate {
  weight: number;
  looks: number;
  minutes: number;
  canaryRequests: number;
  expectedCanaryErrors: number;
  /** The chance a canary no worse than the live version passes within the bake. */
  healthyPass: number;
  caught: Detection[];
}


/** Largest c with P(Binomial(n, q) ≤ c) ≤ level; −1 when even 0 is too likely. */
function largestLowerCount(n: number, q: number, level: number): number {
  let lo = -1;
  let hi = n;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (binomialLowerTail(n, q, mid) <= level) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Smallest c with P(Binomial(n, q) ≥ c) ≤ level; n + 1 when none. */
function smallestUpperCount(n: number, q: number, level: number): number {
  let lo = 0;
  let hi = n + 1;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (1 - binomialLowerTail(n, q, mid - 1) <= level) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

const share = (ratio: number, s: number) => (ratio * s) / (ratio * s + 1 - s);

/** Averages f over the Poisson spread of an event count with mean `mean`. */
function overSpread(mean: number, f: (n: number) => number): number {
  if (mean <= 0) return f(0);
  return SPREAD.reduce((total, [z, w]) => total + w * f(Math.max(0, Math.round(mean + z * Math.sqrt(mean)))), 0);
}

/** The chance one test's exact check at the bound passes a healthy canary with `events` events expected. */
function passChance(events: number, margin: number, s: number, beta: number): number {
  return overSpread(events, (n) => {
    const c = largestLowerCount(n, share(margin, s), beta / 2);
    return c < 0 ? 0 : binomialLowerTail(n, s, c);
  });
}

/** The closed-form estimate of one canary step at this traffic (see the module comment). */
export function estimateStep(input: StepPlanInput, ratios: readonly number[] = [2, 5]): StepEstimate {
  const cfg = resolveConfig(input.judge);
  const { traffic, weight: s } = input;
  const looks = Math.max(1, Math.floor(input.looks));
  const minutes = (looks * input.pollSeconds) / 60;
  const requests = traffic.requestsPerMinute * minutes;
  const canaryRequests = requests * s;
  const p = traffic.errorRate;
  const expectedCanaryErrors = canaryRequests * p;
  const relative = cfg.passRatio;
  const marginAt = (rate: number, rel: number, increase: number) => (rate > 0 && increase > 0 ? Math.max(rel, 1 + increase / rate) : rel);

  let healthyPass = canaryRequests >= cfg.minCanaryRequests ? 1 : 0;
  if (cfg.metrics.includes('errors')) {
    // No errors at all: the no-events rule passes once enough event-free requests are seen.
    const noEventsNeeded = Math.log(1 / cfg.beta) / -Math.log1p(-cfg.zeroEventTolerance);
    healthyPass *= p > 0 ? passChance(requests * p, marginAt(p, relative, cfg.maxErrorRateIncrease), s, cfg.beta) : canaryRequests >= noEventsNeeded ? 1 : 0;
  }
  if (cfg.metrics.includes('latency')) {
    healthyPass *= passChance(requests * TAIL_SHARE, marginAt(TAIL_SHARE, relative, cfg.maxSlowShareIncrease), s, cfg.beta);
    healthyPass *= passChance(requests * SHIFT_SHARE, marginAt(SHIFT_SHARE, 1 + (relative - 1) / 2, cfg.maxSlowShareIncrease), s, cfg.beta);
  }

  // The errors' alpha (a Bonferroni share of the family), of which the group-sequential test spends all but the mixture's share.
  const members = cfg.metrics.length + cfg.custom.length;
  const alpha = cfg.metrics.includes('errors') ? ((1 - MIXTURE_SHARE) * cfg.alpha) / Math.max(1, members) : 0;
  const caught = ratios.map((ratio): Detection => {
    if (alpha === 0 || p <= 0) return { ratio, chance: 0, medianMinutes: null };
    const power = (k: number, level: number) => {
      const n = (requests * k) / looks;
      const events = n * s * ratio * p + n * (1 - s) * p;
      return overSpread(events, (e) => {
        // Under "no worse" the events split by requests; under ×ratio the canary's share grows.
        const c = smallestUpperCount(e, s, level);
        return c > e ? 0 : 1 - binomialLowerTail(e, share(ratio, s), c - 1);
      });
    };
    const chance = power(looks, alpha);
    let median: number | null = null;
    for (let k = 1; k <= looks && median === null; k++) if (power(k, hsdSpent(alpha, k / looks)) >= 0.5) median = k;
    return { ratio, chance, medianMinutes: median === null ? null : (median * input.pollSeconds) / 60 };
  });
  return { weight: s, looks, minutes, canaryRequests, expectedCanaryErrors, healthyPass, caught };
}

/**
 * The default bake of a step: the fewest looks (at most `capLooks`) at which a healthy canary
 * passes with PLAN_TARGET by `estimateStep`; `capped` when even the cap falls short.
 */
export function recommendLooks(input: Omit<StepPlanInput, 'looks'>, capLooks: number, target = PLAN_TARGET): { looks: number; capped: boolean; estimate: StepEstimate } {
  const cap = Math.max(1, Math.floor(capLooks));
  const at = (looks: number) => estimateStep({ ...input, looks });
  const atCap = at(cap);
  if (atCap.healthyPass < target) return { looks: cap, capped: true, estimate: atCap };
  // The chance grows with the bake: bisect for the first look count that reaches the target.
  let lo = 1;
  let hi = cap;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (at(mid).healthyPass >= target) hi = mid;
    else lo = mid + 1;
  }
  return { looks: lo, capped: false, estimate: lo === cap ? atCap : at(lo) };
}

export interface SimulatedStep {
  runs: number;
  pass: number;
  fail: number;
  inconclusive: number;
  /** The minutes by which half of all runs had failed (null: fewer than half ever did). */
  medianFailMinutes: number | null;
}

/**
 * The real judge on `runs` seeded simulated steps at this traffic, the canary's error rate
 * `errorMultiplier` × the live version's: the shares of runs passed, failed and still
 * inconclusive at the bake bound.
 */
export function simulateStep(input: StepPlanInput & { errorMultiplier?: number; runs?: number; seed?: number }): SimulatedStep {
  const cfg = resolveConfig(input.judge);
  const runs = input.runs ?? 200;
  const looks = Math.max(1, Math.floor(input.looks));
  const perLook = (input.traffic.requestsPerMinute * input.pollSeconds) / 60;
  const p = input.traffic.errorRate;
  const pCanary = Math.min(1, p * (input.errorMultiplier ?? 1));
  const withLatency = cfg.metrics.includes('latency');
  const u = rng(input.seed ?? 1);
  let pass = 0;
  let fail = 0;
  const failLooks: number[] = [];
  for (let r = 0; r < runs; r++) {
    const c: ArmCounts = { requests: 0, errors: 0, slow: 0, slowShift: 0 };
    const b: ArmCounts = { requests: 0, errors: 0, slow: 0, slowShift: 0 };
    const history: JudgeLook[] = [];
    for (let k = 1; k <= looks; k++) {
      const total = poisson(perLook, u);
      const nc = binomial(total, input.weight, u);
      const nb = total - nc;
      c.requests += nc;
      b.requests += nb;
      c.errors += binomial(nc, pCanary, u);
      b.errors += binomial(nb, p, u);
      c.slow += binomial(nc, TAIL_SHARE, u);
      b.slow += binomial(nb, TAIL_SHARE, u);
      c.slowShift! += binomial(nc, SHIFT_SHARE, u);
      b.slowShift! += binomial(nb, SHIFT_SHARE, u);
      // As the canary step does: latency waits for its thresholds, the other metrics keep their share of alpha.
      const fixed = !withLatency || b.requests >= MIN_THRESHOLD_REQUESTS;
      const metrics = fixed ? cfg.metrics : cfg.metrics.filter((m) => m !== 'latency');
      const members = cfg.metrics.length + cfg.custom.length;
      const alpha = metrics.length > 0 ? (cfg.alpha * (metrics.length + cfg.custom.length)) / members : cfg.alpha;
      const j = judge(c, b, input.weight, { ...cfg, metrics, alpha }, { horizonLooks: looks, history });
      history.push(j.look!);
      if (j.verdict === 'fail') {
        fail++;
        failLooks.push(k);
        break;
      }
      if (j.verdict === 'pass' && fixed) {
        pass++;
        break;
      }
    }
  }
  failLooks.sort((a, b) => a - b);
  const medianFailMinutes = failLooks.length >= runs / 2 ? (failLooks[Math.ceil(runs / 2) - 1]! * input.pollSeconds) / 60 : null;
  return { runs, pass: pass / runs, fail: fail / runs, inconclusive: (runs - pass - fail) / runs, medianFailMinutes };
}
