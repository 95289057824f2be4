/**
 * The canary judge: a pure function from cumulative canary and baseline counts to a verdict.
 *
 * Each metric is a count of bad events: errors; slow requests over a threshold fixed before
 * the step; the counts a service publishes itself (`custom`, which may exceed one per
 * request). For each, an anytime-valid sequential test of the canary/baseline rate ratio
 * (`sequential.ts`): valid however often the judge is called, so the state machine may call it
 * every minute and act on the first pass or fail.
 *
 * - fail: the "canary worse" test rejects ratio 1 at alpha_m = alpha / #metrics (Bonferroni),
 *   i.e. the anytime-valid p-value is ≤ alpha_m, i.e. the confidence sequence lies above 1.
 *   P(any metric ever fails | canary no worse) ≤ alpha; the SRM check adds at most srmAlpha.
 *   Given the step's horizon (`JudgeHorizon`: the looks its bake bound allows and the earlier
 *   looks), errors and custom counts fail on either of two tests, alpha_m split between them:
 *   the mixture at MIXTURE_SHARE · alpha_m at every look, and an exact group-sequential test
 *   spending the rest over the horizon's looks (`spending.ts`), which comes within about a
 *   point of one look at the horizon. Latency stays on the mixture alone (spendsOverHorizon).
 * - pass (non-inferiority): a test passes once the canary is shown below its margin m, the
 *   larger of a relative margin (passRatio; half its excess for the latency shift) and an
 *   absolute one (maxErrorRateIncrease, maxSlowShareIncrease) turned into a ratio at the
 *   baseline's rate, 1 + δ / p_b, with p_b estimated with one event added (never understated, so
 *   the margin is never overstated). Its error rate beta (a canary exactly at the margin is
 *   promoted with at most that chance) is spent by two tests when the judge knows the horizon:
 *   the anytime-valid "better than m" mixture at every look (PASS_MIXTURE_SHARE, a quarter), and
 *   one exact binomial test of "ratio ≥ m" at the look the bake bound allows last (look
 *   horizonLooks, the rest), which comes close to what one look at the bound can show; without
 *   the horizon the mixture has all of beta. The defaults (passRatio 2, beta 0.003, a quarter to
 *   the mixture) come from the bench (bench/RESULTS.md): a canary at exactly ×2 is promoted with
 *   at most 0.075% + 0.225%. Errors ×2 were promoted in up to 0.65% of 2,000 runs at beta 0.006
 *   and 0.55% at 0.004 (100 canary requests a minute on a 50/50 split, where the fail side has
 *   the least power), over the 0.5% issue 13 asks; at 0.003 healthy canaries still pass within
 *   their steps as it asks.
 *   The canary passes when every test passes (intersection-union: no split of beta across the
 *   metrics). Fail wins if both hold at the same look (a demonstrated regression is still a
 *   regression, even within the margin). The absolute margin is a plug-in at the estimated p_b:
 *   with the baseline holding most of the traffic its rate is known far better than the
 *   canary's, and the added event errs safe.
 * - No events in either arm: the ratio is undefined and the tests carry no information, so
 *   the metric is judged on an absolute bound instead: it passes once the canary's event-free
 *   requests show, anytime-valid at beta, that its rate is below zeroEventTolerance.
 * - Sample-ratio mismatch: the canary's share of requests is tested against canaryWeight with a
 *   two-sided anytime-valid mixture at srmAlpha; a mismatch fails the canary (misrouted traffic:
 *   nothing else can be trusted).
 * - Overall: fail if SRM or any metric fails; pass if every metric passes (and there is one);
 *   else inconclusive.
 *   Fewer than minCanaryRequests canary requests (in particular none) is always inconclusive:
 *   never a silent pass.
 *
 * Latency is judged only through counts of requests over thresholds fixed before the canary
 * (the baseline's p99 for the tail and, when counted, its p90 for a shift of the whole
 * distribution; latency's alpha is split between the two): comparing per-minute percentiles
 * of arms with different traffic shares is biased (a percentile of 5 samples is their
 * maximum), and percentiles do not aggregate across minutes. A threshold that moved from look
 * to look would change what an event is, and the running counts would no longer be one
 * sequential experiment.
 */
import { InvalidInput, type FieldIssue } from '../errors.js';
import {
  betterLogBF,
  logit,
  logTwoSidedBF,
  pFromLogBF,
  RATIO_CAP,
  ratioConfidenceSequence,
  worseLogBF,
  type EventCounts,
} from './sequential.js';
import { binomialLowerTail, spendingTest, type SpendingLook } from './spending.js';
import type { ArmCounts, EvidenceMetric, JudgeConfig, JudgeHorizon, JudgeLook, JudgeMetric, Judgement, MetricEvidence, Verdict } from './types.js';

/**
 * With a horizon, the share of each spending test's alpha the anytime-valid mixture keeps at
 * every look (the rest is spent by the group-sequential test over the horizon): it stops large
 * regressions within minutes and is all that can still fail a canary after the horizon.
 */
export const MIXTURE_SHARE = 0.1;

/**
 * The tests the group-sequential test over the horizon applies to: the metrics with few events
 * (errors, custom counts). Latency (the tail count and the shift count over the baseline's
 * p90, whose events are a tenth of all requests) stays on the anytime-valid mixture alone at its
 * whole alpha: the exact test's cost grows with the event count (tens of ms per look for an hour
 * at 1000 requests/minute), and the mixture already catches tail regressions fast.
 */
/**
 * With a horizon, the share of beta the pass side's anytime-valid mixture spends at every look
 * (the rest goes to the one exact test at the bake bound). The mixture passes a canary early when
 * the traffic shows it clearly; the exact test is what decides at low traffic.
 */
export const PASS_MIXTURE_SHARE = 0.25;

const spendsOverHorizon = (metric: EvidenceMetric): boolean => metric === 'errors' || metric.startsWith(CUSTOM);

export const DEFAULT_JUDGE_CONFIG: JudgeConfig = Object.freeze({
  alpha: 0.05,
  metrics: Object.freeze(['errors', 'latency']) as JudgeMetric[],
  custom: Object.freeze([]) as unknown as string[],
  passRatio: 2,
  maxErrorRateIncrease: 0.0025,
  maxSlowShareIncrease: 0.005,
  beta: 0.003,
  minCanaryRequests: 50,
  srmAlpha: 0.001,
  zeroEventTolerance: 0.01,
});

const BUILT_IN_FIELD = { errors: 'errors', latency: 'slow', 'latency-shift': 'slowShift' } as const;
const BUILT_IN_LABEL = {
  errors: 'errors',
  latency: 'latency (slow requests)',
  'latency-shift': 'latency shift (requests over the shift threshold)',
} as const;
const CUSTOM = 'custom:';

/** The events one test counts in an arm. */
function eventsOf(metric: EvidenceMetric, arm: ArmCounts): number {
  if (metric.startsWith(CUSTOM)) return arm.custom?.[metric.slice(CUSTOM.length)] ?? 0;
  return arm[BUILT_IN_FIELD[metric as keyof typeof BUILT_IN_FIELD]] ?? 0;
}

const labelOf = (metric: EvidenceMetric): string =>
  metric.startsWith(CUSTOM) ? `${metric.slice(CUSTOM.length)} (custom metric)` : BUILT_IN_LABEL[metric as keyof typeof BUILT_IN_LABEL];

/** The tests one metric stands for, each with its share of that metric's alpha. */
function testsOf(metric: JudgeMetric, canary: ArmCounts, baseline: ArmCounts): EvidenceMetric[] {
  if (metric === 'latency' && canary.slowShift !== undefined && baseline.slowShift !== undefined) return ['latency', 'latency-shift'];
  return [metric];
}

export function judge(canary: ArmCounts, baseline: ArmCounts, canaryWeight: number, config?: Partial<JudgeConfig>, horizon?: JudgeHorizon): Judgement {
  const cfg = resolveConfig(config);
  validate(canary, baseline, canaryWeight, cfg);

  const srm = sampleRatioCheck(canary.requests, baseline.requests, canaryWeight, cfg.srmAlpha);
  const enough = canary.requests >= cfg.minCanaryRequests && canary.requests > 0;
  const members = cfg.metrics.length + cfg.custom.length;
  const tests = [
    ...cfg.metrics.flatMap((m) => {
      const ts = testsOf(m, canary, baseline);
      return ts.map((t) => ({ metric: t, alpha: cfg.alpha / members / ts.length }));
    }),
    ...cfg.custom.map((name) => ({ metric: `${CUSTOM}${name}` as EvidenceMetric, alpha: cfg.alpha / members })),
  ];
  const metrics = tests.map((t) => metricEvidence(t.metric, canary, baseline, t.alpha, cfg, enough, horizon));
  const lines = metrics.map((e, i) => describe(e, tests[i]!.alpha, cfg, horizon !== undefined));
  const srmNote = srm.failed ? `; ${describeSrm(srm, canary.requests + baseline.requests, cfg.srmAlpha)}` : '';
  const look = horizon ? lookOf(canary, baseline, enough ? metrics.map((e) => e.metric).filter(spendsOverHorizon) : []) : undefined;
  const judgement = judgeWith(canary, baseline, cfg, tests.length, metrics, lines, srm, srmNote, enough);
  return look ? { ...judgement, look } : judgement;
}

/** This look as the history records it: the tests whose fail side could act on it. */
function lookOf(canary: ArmCounts, baseline: ArmCounts, judged: EvidenceMetric[]): JudgeLook {
  const e: JudgeLook['e'] = {};
  if (canary.requests > 0 && baseline.requests > 0) for (const m of judged) e[m] = [eventsOf(m, canary), eventsOf(m, baseline)];
  return { r: [canary.requests, baseline.requests], e };
}

/** The verdict from the tests' evidence. */
function judgeWith(
  canary: ArmCounts,
  baseline: ArmCounts,
  cfg: JudgeConfig,
  testCount: number,
  metrics: MetricEvidence[],
  lines: string[],
  srm: Judgement['srm'],
  srmNote: string,
  enough: boolean,
): Judgement {
  if (testCount === 0) {
    // Nothing judged (latency alone, waiting for its thresholds) can never pass.
    return { verdict: srm.failed ? 'fail' : 'inconclusive', reason: srm.failed ? describeSrm(srm, canary.requests + baseline.requests, cfg.srmAlpha) : 'no metric to judge yet', metrics, srm };
  }
  if (canary.requests === 0) {
    return { verdict: 'inconclusive', reason: `no canary requests yet (${baseline.requests} baseline)${srmNote}`, metrics, srm };
  }
  if (!enough) {
    return {
      verdict: 'inconclusive',
      reason: `only ${canary.requests} canary requests, need ${cfg.minCanaryRequests} for a verdict${srmNote}`,
      metrics,
      srm,
    };
  }
  if (srm.failed) {
    return { verdict: 'fail', reason: describeSrm(srm, canary.requests + baseline.requests, cfg.srmAlpha), metrics, srm };
  }
  const failed = metrics.map((e, i) => [e, lines[i]!] as const).filter(([e]) => e.verdict === 'fail');
  if (failed.length > 0) {
    return { verdict: 'fail', reason: failed.map(([, l]) => l).join('; '), metrics, srm };
  }
  if (metrics.every((e) => e.verdict === 'pass')) {
    return { verdict: 'pass', reason: `shown within its margins: ${lines.join('; ')}`, metrics, srm };
  }
  return { verdict: 'inconclusive', reason: `no verdict yet: ${lines.join('; ')}`, metrics, srm };
}

function metricEvidence(
  metric: EvidenceMetric,
  canary: ArmCounts,
  baseline: ArmCounts,
  alphaM: number,
  cfg: JudgeConfig,
  enough: boolean,
  horizon: JudgeHorizon | undefined,
): MetricEvidence {
  const eC = eventsOf(metric, canary);
  const eB = eventsOf(metric, baseline);
  const base = {
    metric,
    canary: { events: eC, requests: canary.requests },
    baseline: { events: eB, requests: baseline.requests },
  };
  const ratio = eB > 0 && canary.requests > 0 ? eC / canary.requests / (eB / baseline.requests) : null;
  const margin = marginOf(metric, eB, baseline.requests, cfg);
  if (canary.requests === 0 || baseline.requests === 0 || eC + eB === 0) {
    // No events anywhere: a ratio cannot be judged, but an absolute bound can. If the canary's
    // rate were ≥ zeroEventTolerance, n event-free requests happen with probability ≤ (1−t)^n;
    // the event "no events in the first n" shrinks as n grows, so passing at the first n with
    // (1−t)^n ≤ beta is anytime-valid.
    const shown = canary.requests * -Math.log1p(-cfg.zeroEventTolerance) >= Math.log(1 / cfg.beta);
    const noEvents = eC + eB === 0 && shown && baseline.requests >= cfg.minCanaryRequests;
    const verdict: Verdict = enough && noEvents ? 'pass' : 'inconclusive';
    return { ...base, ratio, interval: [0, RATIO_CAP], pValue: 1, margin, verdict };
  }
  const counts: EventCounts = {
    canaryEvents: eC,
    baselineEvents: eB,
    canaryShare: canary.requests / (canary.requests + baseline.requests),
  };
  const threshold = Math.log(1 / alphaM);
  const worse = worseLogBF(counts, 1);
  const pValue = pFromLogBF(worse);
  const interval = ratioConfidenceSequence(counts, alphaM);
  // With a horizon the fail side is two tests, alpha split between them (Bonferroni): the
  // mixture at MIXTURE_SHARE·alpha_m at every look, the group-sequential test with the rest.
  // Latency keeps the mixture alone at its whole alpha_m (see spendsOverHorizon).
  const horizonTest = horizon !== undefined && spendsOverHorizon(metric);
  const mixtureThreshold = horizonTest ? Math.log(1 / (MIXTURE_SHARE * alphaM)) : threshold;
  const spending = horizon && horizonTest && enough ? spendingOf(metric, canary, baseline, (1 - MIXTURE_SHARE) * alphaM, horizon) : undefined;
  let verdict: Verdict = 'inconclusive';
  let passedBy: MetricEvidence['passedBy'];
  if (enough) {
    if (worse >= mixtureThreshold || (spending?.boundary != null && eC >= spending.boundary)) verdict = 'fail';
    else {
      passedBy = passTest(counts, margin, cfg.beta, horizon);
      if (passedBy) verdict = 'pass';
    }
  }
  return { ...base, ratio, interval, pValue, ...(spending ? { spending } : {}), margin, ...(passedBy ? { passedBy } : {}), verdict };
}

/**
 * The margin of one test as a rate ratio: the larger of the relative margin (half its excess
 * for the shift, whose events are ten times as many and whose ratios run smaller) and the
 * absolute one at the baseline's rate, estimated with one event added.
 */
function marginOf(metric: EvidenceMetric, baselineEvents: number, baselineRequests: number, cfg: JudgeConfig): number {
  const relative = metric === 'latency-shift' ? 1 + (cfg.passRatio - 1) / 2 : cfg.passRatio;
  const increase = metric === 'latency' || metric === 'latency-shift' ? cfg.maxSlowShareIncrease : cfg.maxErrorRateIncrease;
  if (baselineRequests === 0 || increase === 0) return relative;
  return Math.max(relative, 1 + increase / ((baselineEvents + 1) / baselineRequests));
}

/**
 * Whether the canary is shown below the margin: the anytime-valid mixture at every look (all of
 * beta without the horizon, PASS_MIXTURE_SHARE of it with it), and, at the look the bake bound
 * allows last, the exact binomial test of "ratio ≥ margin" on the canary's share of the events at
 * the rest.
 */
function passTest(counts: EventCounts, margin: number, beta: number, horizon: JudgeHorizon | undefined): MetricEvidence['passedBy'] {
  const mixtureBeta = horizon ? PASS_MIXTURE_SHARE * beta : beta;
  if (betterLogBF(counts, margin) >= Math.log(1 / mixtureBeta)) return 'mixture';
  if (!horizon || horizon.history.length + 1 !== Math.max(1, horizon.horizonLooks)) return undefined;
  const s = counts.canaryShare;
  const q = (margin * s) / (margin * s + 1 - s);
  return binomialLowerTail(counts.canaryEvents + counts.baselineEvents, q, counts.canaryEvents) <= (1 - PASS_MIXTURE_SHARE) * beta ? 'bound' : undefined;
}

/** The group-sequential test of one metric at this look, over the looks of the history that judged it. */
function spendingOf(metric: EvidenceMetric, canary: ArmCounts, baseline: ArmCounts, alpha: number, h: JudgeHorizon): NonNullable<MetricEvidence['spending']> {
  // Look k (1-based) of the step is at t = k / horizonLooks: the look index, never the data.
  const t = (k: number) => k / Math.max(1, h.horizonLooks);
  const looks: SpendingLook[] = [];
  const add = (k: number, r: [number, number], e: [number, number]) =>
    looks.push({ t: t(k), canaryEvents: e[0], totalEvents: e[0] + e[1], canaryRequests: r[0], totalRequests: r[0] + r[1] });
  h.history.forEach((l, i) => {
    const e = l.e[metric];
    if (e) add(i + 1, l.r, e);
  });
  const k = h.history.length + 1;
  add(k, [canary.requests, baseline.requests], [eventsOf(metric, canary), eventsOf(metric, baseline)]);
  const r = spendingTest(looks, alpha);
  return { alpha, t: t(k), allowed: r.allowed, spent: r.spent, boundary: r.boundary };
}

function sampleRatioCheck(nC: number, nB: number, weight: number, srmAlpha: number): Judgement['srm'] {
  const n = nC + nB;
  const observedShare = n > 0 ? nC / n : null;
  const logBF = n > 0 ? logTwoSidedBF(nC, nB, logit(weight)) : 0;
  const pValue = pFromLogBF(logBF);
  return { expectedShare: weight, observedShare, pValue, failed: logBF >= Math.log(1 / srmAlpha) };
}

function describe(e: MetricEvidence, alphaM: number, cfg: JudgeConfig, withHorizon: boolean): string {
  const label = labelOf(e.metric);
  if (e.canary.requests === 0 || e.baseline.requests === 0) {
    return `${label}: no ${e.canary.requests === 0 ? 'canary' : 'baseline'} requests`;
  }
  if (e.canary.events + e.baseline.events === 0) {
    const rate = e.verdict === 'pass' ? `, so the canary's rate is below ${fmt(100 * cfg.zeroEventTolerance)}%` : `; not yet enough to show a rate below ${fmt(100 * cfg.zeroEventTolerance)}%`;
    return `${label}: no events in either arm (${e.canary.requests} canary, ${e.baseline.requests} baseline requests)${rate}`;
  }
  const level = `${fmt(100 * (1 - 2 * alphaM))}% CS ${fmt(e.interval[0])}–${e.interval[1] >= RATIO_CAP ? '∞' : fmt(e.interval[1])}`;
  const ratio =
    e.ratio === null
      ? `canary ${e.canary.events}/${e.canary.requests}, baseline 0/${e.baseline.requests}`
      : `canary ${fmt(e.ratio)}× baseline`;
  const p = `p=${fmtP(e.pValue)}`;
  const sp = e.spending;
  const gs = sp
    ? `; over the horizon: ${e.canary.events} of ${e.canary.events + e.baseline.events} events in the canary, ${sp.boundary === null ? 'no count fails yet' : `${sp.boundary} fail`} (α ${fmt(sp.alpha)}, ${fmt(100 * sp.allowed / sp.alpha)}% spendable at ${fmt(100 * Math.min(1, sp.t))}% of the bake)`
    : '';
  const mixtureAlpha = withHorizon && spendsOverHorizon(e.metric) ? MIXTURE_SHARE * alphaM : alphaM;
  switch (e.verdict) {
    case 'fail': {
      const byMixture = e.pValue <= mixtureAlpha;
      return byMixture ? `${label}: ${ratio} (${level}), ${p} ≤ ${fmt(mixtureAlpha)}${gs}` : `${label}: ${ratio} (${level}), ${p}${gs}`;
    }
    case 'pass':
      return `${label}: ${ratio} (${level}), shown below ${fmt(e.margin)}× baseline${e.passedBy === 'bound' ? ' by the exact test at the bake bound' : ''} (β ${fmt(cfg.beta)})`;
    default:
      return `${label}: ${ratio} (${level}), ${p}${gs}`;
  }
}

function describeSrm(srm: Judgement['srm'], total: number, srmAlpha: number): string {
  const pct = (x: number) => `${fmt(100 * x)}%`;
  return (
    `misrouted traffic: canary received ${pct(srm.observedShare ?? 0)} of ${total} requests, ` +
    `configured ${pct(srm.expectedShare)} (sample-ratio p=${fmtP(srm.pValue)} ≤ ${fmt(srmAlpha)})`
  );
}

/** Two significant digits, no exponent for everyday magnitudes. */
function fmt(x: number): string {
  if (x === 0) return '0';
  if (Math.abs(x) >= 100) return String(Math.round(x));
  return String(Number(x.toPrecision(2)));
}

function fmtP(p: number): string {
  return p < 1e-4 ? p.toExponential(0) : String(Number(p.toPrecision(2)));
}

/** The judge's settings: the defaults under what is given (undefined fields keep their default). */
export function resolveConfig(config: Partial<JudgeConfig> | undefined): JudgeConfig {
  const merged = { ...DEFAULT_JUDGE_CONFIG, ...stripUndefined(config ?? {}) };
  return { ...merged, metrics: [...new Set(merged.metrics)], custom: [...new Set(merged.custom)] };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function validate(canary: ArmCounts, baseline: ArmCounts, canaryWeight: number, cfg: JudgeConfig): void {
  const issues: FieldIssue[] = [];
  const count = (field: string, v: unknown) => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) issues.push({ field, problem: `must be a finite number ≥ 0, got ${String(v)}` });
  };
  for (const [arm, c] of [['canary', canary], ['baseline', baseline]] as const) {
    count(`${arm}.requests`, c.requests);
    count(`${arm}.errors`, c.errors);
    count(`${arm}.slow`, c.slow);
    if (c.slowShift !== undefined) {
      count(`${arm}.slowShift`, c.slowShift);
      if (c.slowShift > c.requests) issues.push({ field: `${arm}.slowShift`, problem: `${c.slowShift} slow requests exceed ${c.requests} requests` });
    }
    for (const name of cfg.custom) count(`${arm}.custom.${name}`, c.custom?.[name] ?? 0);
    if (c.errors > c.requests) issues.push({ field: `${arm}.errors`, problem: `${c.errors} errors exceed ${c.requests} requests` });
    if (c.slow > c.requests) issues.push({ field: `${arm}.slow`, problem: `${c.slow} slow requests exceed ${c.requests} requests` });
  }
  const open01 = (field: string, v: number) => {
    if (!(v > 0 && v < 1)) issues.push({ field, problem: `must be strictly between 0 and 1, got ${String(v)}` });
  };
  open01('canaryWeight', canaryWeight);
  open01('alpha', cfg.alpha);
  open01('srmAlpha', cfg.srmAlpha);
  if (!(cfg.passRatio > 0 && Number.isFinite(cfg.passRatio))) issues.push({ field: 'passRatio', problem: `must be a finite number > 0, got ${String(cfg.passRatio)}` });
  open01('beta', cfg.beta);
  for (const field of ['maxErrorRateIncrease', 'maxSlowShareIncrease'] as const) {
    const v = cfg[field];
    if (!(v >= 0 && v < 1)) issues.push({ field, problem: `must be a share of requests from 0 up to 1 (0.0025 is 0.25 percentage points), got ${String(v)}` });
  }
  if (!(cfg.minCanaryRequests >= 0 && Number.isFinite(cfg.minCanaryRequests))) {
    issues.push({ field: 'minCanaryRequests', problem: `must be a finite number ≥ 0, got ${String(cfg.minCanaryRequests)}` });
  }
  if (!Array.isArray(cfg.metrics)) issues.push({ field: 'metrics', problem: 'must be a list of errors, latency' });
  else for (const m of cfg.metrics) if (m !== 'errors' && m !== 'latency') issues.push({ field: 'metrics', problem: `unknown metric ${String(m)}` });
  if (!Array.isArray(cfg.custom)) issues.push({ field: 'custom', problem: 'must be a list of custom metric names' });
  if (issues.length > 0) throw new InvalidInput(issues);
}
