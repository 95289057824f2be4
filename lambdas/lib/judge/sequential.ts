/**
 * Anytime-valid tests and confidence sequences for "which arm did this event come from".
 *
 * Model (Lindon & Malek, "Anytime-valid inference for multinomial count data", NeurIPS 2022,
 * the time-inhomogeneous Poisson case): requests reach the canary and the baseline in a fixed
 * proportion; each request of an arm fails with that arm's probability, which may drift over
 * time as long as the canary/baseline ratio r stays the same. Then, given that an event (an
 * error, or a slow request) happened, it is a canary event with probability
 *
 *     q(r) = r·s / (r·s + 1 − s),   i.e.   logit q = log r + logit s,
 *
 * where s is the canary's share of requests, independently of every earlier event, whatever the
 * traffic level or base rate did. Counting only events, the canary count after n events is
 * Binomial(n, q(r)): time drift and bursts cancel out. We estimate s by the observed request
 * share N_c/(N_c+N_b) (robust to a split that differs from the configured weight; given the
 * request counts the event split is hypergeometric, slightly less dispersed than binomial).
 *
 * Test of H0: ratio ≤ r0 against "worse". For each alternative log-ratio log r0 + d (d > 0) the
 * binomial likelihood ratio  Π_events q_d^x (1−q_d)^(1−x) / q0^x (1−q0)^(1−x)  is a nonnegative
 * martingale with mean 1 under ratio = r0 (a supermartingale for any ratio < r0: its
 * per-event mean is linear in the true q and equals 1 at q0). A fixed mixture over d of such
 * martingales is again one, so by Ville's inequality P(∃ n: BF_n ≥ 1/α) ≤ α. The mixture
 * depends on the data only through the cumulative counts (e_c, e_b), so a stateless judge that
 * sees cumulative counts can compute it at every look, as often as it likes, and p = min(1, 1/BF)
 * is an anytime-valid p-value (P(∃ look: p ≤ α) ≤ α) — no running maximum needed.
 *
 * The mixing distribution is a discrete half-normal on |log ratio| (scale 1, i.e. most weight
 * on 1.05×–7×, a grid every 0.05 up to 100×). It is a prior on the rate *ratio*, so it means
 * the same thing at a 5% split as at a 50% split (a Beta prior on q would not). The discrete
 * mixture costs no special functions: one softplus per grid point.
 *
 * Confidence sequence: invert the two one-sided tests. The lower bound is the smallest r0 the
 * "worse" test does not reject at alpha, the upper bound the largest r0 the "better" test does
 * not reject at alpha; each log-BF is monotone in r0, so both are found by bisection, the
 * interval has anytime coverage 1 − 2·alpha, and "fail" (the worse-test rejects r0 = 1) is
 * exactly "lower bound > 1", "pass" exactly "upper bound < passRatio".
 */

/** Interval bounds are clamped to [0, RATIO_CAP]; an upper bound of RATIO_CAP means unbounded. */
export const RATIO_CAP = 1e6;
const RATIO_FLOOR = 1e-6;
/** p-values are floored here so they stay finite and storable (DynamoDB numbers ≥ 1e-130). */
export const P_FLOOR = 1e-15;

export interface MixturePrior {
  /** Positive log-ratio offsets d_k. */
  readonly offsets: Float64Array;
  /** log of the mixing weight of each offset; the weights sum to 1. */
  readonly logWeights: Float64Array;
}

/** Discrete half-normal on |log ratio|: offsets step, 2·step, … ≤ max, weights ∝ exp(−d²/2·scale²). */
export function halfNormalPrior(scale = 1, step = 0.05, max = Math.log(100)): MixturePrior {
  const k = Math.floor(max / step);
  const offsets = new Float64Array(k);
  const raw = new Float64Array(k);
  let total = 0;
  for (let i = 0; i < k; i++) {
    const d = (i + 1) * step;
    offsets[i] = d;
    raw[i] = Math.exp((-d * d) / (2 * scale * scale));
    total += raw[i]!;
  }
  const logWeights = raw.map((w) => Math.log(w / total));
  return { offsets, logWeights };
}

export const DEFAULT_PRIOR: MixturePrior = halfNormalPrior();

/** log(1 + e^y) without overflow. */
function softplus(y: number): number {
  return y > 0 ? y + Math.log1p(Math.exp(-y)) : Math.log1p(Math.exp(y));
}

/** log σ(z). */
function logSigmoid(z: number): number {
  return -softplus(-z);
}

export const logit = (p: number): number => Math.log(p) - Math.log1p(-p);

/**
 * log Bayes factor of the mixture over alternatives logit q = x0 + direction·d against
 * logit q = x0, after `hits` events on the tested side (canary) and `misses` on the other.
 *
 * Per alternative: hits·log(q_d/q_0) + misses·log((1−q_d)/(1−q_0)), which with
 * log(1−σ(x)) = log σ(x) − x simplifies to n·(log σ(x0 ± d) − log σ(x0)) ∓ misses·d.
 * Its derivative in x0 is n·(σ(x0) − σ(x0 ± d)): decreasing in x0 for direction +1,
 * increasing for −1.
 */
export function logMixtureBF(hits: number, misses: number, x0: number, direction: 1 | -1, prior: MixturePrior = DEFAULT_PRIOR): number {
  return mixture(hits, misses, x0, direction, prior, false);
}

let scratch = new Float64Array(0);
let scratchSlope = new Float64Array(0);
/** Slope (d logBF / d x0) of the last `mixture(…, true)` call. */
let lastSlope = 0;

function mixture(hits: number, misses: number, x0: number, direction: 1 | -1, prior: MixturePrior, withSlope: boolean): number {
  const n = hits + misses;
  lastSlope = 0;
  if (n === 0) return 0;
  const l0 = logSigmoid(x0);
  const s0 = Math.exp(l0);
  const { offsets, logWeights } = prior;
  const k = offsets.length;
  if (scratch.length < k) {
    scratch = new Float64Array(k);
    scratchSlope = new Float64Array(k);
  }
  let max = -Infinity;
  for (let i = 0; i < k; i++) {
    const d = offsets[i]!;
    const x = direction > 0 ? x0 + d : x0 - d;
    const ls = logSigmoid(x);
    const llr = n * (ls - l0) - direction * misses * d;
    const t = logWeights[i]! + llr;
    scratch[i] = t;
    if (withSlope) scratchSlope[i] = n * (s0 - Math.exp(ls));
    if (t > max) max = t;
  }
  let sum = 0;
  let slope = 0;
  for (let i = 0; i < k; i++) {
    const w = Math.exp(scratch[i]! - max);
    sum += w;
    if (withSlope) slope += w * scratchSlope[i]!;
  }
  if (withSlope) lastSlope = slope / sum;
  return max + Math.log(sum);
}

/** Two-sided mixture (half the weight each way) for H0: logit q = x0. */
export function logTwoSidedBF(hits: number, misses: number, x0: number, prior: MixturePrior = DEFAULT_PRIOR): number {
  const up = logMixtureBF(hits, misses, x0, 1, prior);
  const down = logMixtureBF(hits, misses, x0, -1, prior);
  const m = Math.max(up, down);
  return m + Math.log(0.5 * Math.exp(up - m) + 0.5 * Math.exp(down - m));
}

export const pFromLogBF = (logBF: number): number => Math.min(1, Math.max(P_FLOOR, Math.exp(-logBF)));

/** Events of one metric in both arms, with the canary's share of requests. */
export interface EventCounts {
  canaryEvents: number;
  baselineEvents: number;
  /** N_c / (N_c + N_b), strictly between 0 and 1. */
  canaryShare: number;
}

/** log BF against H0 "rate ratio ≤ r0", for "canary worse than r0 × baseline". */
export function worseLogBF(c: EventCounts, r0 = 1, prior: MixturePrior = DEFAULT_PRIOR): number {
  return logMixtureBF(c.canaryEvents, c.baselineEvents, Math.log(r0) + logit(c.canaryShare), 1, prior);
}

/** log BF against H0 "rate ratio ≥ r0", for "canary better than r0 × baseline". */
export function betterLogBF(c: EventCounts, r0: number, prior: MixturePrior = DEFAULT_PRIOR): number {
  return logMixtureBF(c.canaryEvents, c.baselineEvents, Math.log(r0) + logit(c.canaryShare), -1, prior);
}

/**
 * Anytime-valid confidence sequence for the rate ratio, coverage 1 − 2·alpha (each side
 * alpha), clamped to [0, RATIO_CAP]. Each end is the root in log r of a monotone log-BF minus
 * log(1/alpha), found by Newton steps kept inside a shrinking bisection bracket and rounded
 * outwards.
 */
export function ratioConfidenceSequence(c: EventCounts, alpha: number, prior: MixturePrior = DEFAULT_PRIOR): [number, number] {
  const threshold = Math.log(1 / alpha);
  const x0 = logit(c.canaryShare);
  const uMin = Math.log(RATIO_FLOOR);
  const uMax = Math.log(RATIO_CAP);
  const { canaryEvents: hits, baselineEvents: misses } = c;
  // g(u) ≥ 0 ⟺ the ratio e^u is rejected by the one-sided test in `direction`.
  const g = (u: number, direction: 1 | -1) => mixture(hits, misses, u + x0, direction, prior, true) - threshold;

  // Lower end: the "worse" test rejects small ratios; g decreasing.
  let lower: number;
  if (g(uMin, 1) < 0) lower = 0;
  else if (g(uMax, 1) >= 0) lower = RATIO_CAP;
  else lower = Math.exp(boundary(g, 1, uMin, uMax, hits, misses, x0));

  // Upper end: the "better" test rejects large ratios; g increasing.
  let upper: number;
  if (g(uMax, -1) < 0) upper = RATIO_CAP;
  else if (g(uMin, -1) >= 0) upper = 0;
  else upper = Math.exp(boundary(g, -1, uMin, uMax, hits, misses, x0));
  return [lower, Math.min(upper, RATIO_CAP)];
}

const U_TOLERANCE = 1e-7;

/**
 * Root of the monotone g(·, direction) in (uMin, uMax), returned on its rejected side: the
 * largest rejected u found for the lower end (direction 1), the smallest for the upper end.
 */
function boundary(
  g: (u: number, direction: 1 | -1) => number,
  direction: 1 | -1,
  uMin: number,
  uMax: number,
  hits: number,
  misses: number,
  x0: number,
): number {
  let rejected = direction > 0 ? uMin : uMax;
  let accepted = direction > 0 ? uMax : uMin;
  // Start from the maximum-likelihood log ratio when it is inside the bracket.
  const mle = hits > 0 && misses > 0 ? Math.log(hits / misses) - x0 : (rejected + accepted) / 2;
  let u = Math.min(uMax, Math.max(uMin, mle - direction * 2 / Math.sqrt(1 + (hits * misses) / (hits + misses))));
  for (let i = 0; i < 200 && Math.abs(accepted - rejected) > U_TOLERANCE; i++) {
    const v = g(u, direction);
    if (v >= 0) rejected = u;
    else accepted = u;
    const lo = Math.min(rejected, accepted);
    const hi = Math.max(rejected, accepted);
    let next = u - v / lastSlope;
    if (!Number.isFinite(next) || next <= lo || next >= hi) next = (lo + hi) / 2;
    // Newton has (nearly) converged: step just past the root so the bracket closes.
    else if (Math.abs(next - u) < U_TOLERANCE / 2) next += Math.sign(next - u) * U_TOLERANCE * 0.75;
    u = next;
  }
  return rejected;
}
