import type { ReleaseNotes } from '../release-notes.js';
import type { Decision, OutcomeRecord, ReleaseRecord } from '../types.js';
import { supplyChainOf, type SupplyChainFacts } from './supply-chain.js';

/**
 * What a release report shows, read off what the ledger holds for one release: its record, its
 * outcome, and its decisions with their evidence. Pure data, no rendering (`render.ts` draws it),
 * and defensive about evidence: it is `unknown` in the ledger and older records differ, so a field
 * that is missing or of another shape is left out rather than trusted.
 */
export interface ReleaseData {
  release: ReleaseRecord;
  outcome?: OutcomeRecord | undefined;
  decisions: Decision[];
  /** The release's notes (release-notes-source.ts), read beside the ledger; absent: the report has no notes section. */
  notes?: ReleaseNotes | undefined;
}

/** One bar of the timeline: consecutive decisions of one step in one lane, from the end of the bar before. */
export interface TimelineBar {
  /** `release` for the steps before any environment, else the environment. */
  lane: string;
  /** The step, with the canary's weight for the judge ("judge at 10%"). */
  label: string;
  start: string;
  end: string;
  ms: number;
  /** The last decision's verdict. */
  verdict: Decision['verdict'];
  decisions: number;
}

export interface LaneSpan {
  lane: string;
  start: string;
  end: string;
  ms: number;
}

export interface ApprovalEntry {
  environment: string;
  kind: string;
  who: string;
  at: string;
  /** `approved`, or the rejecting word (`rejected`) with the comment given. */
  decision: 'approved' | 'rejected';
  comment?: string;
}

/** One test of the judge at one look: the rate ratio, its confidence sequence, the margin it must be shown below. */
export interface LookMetric {
  metric: string;
  ratio: number | null;
  lo: number;
  hi: number;
  margin: number | null;
  verdict: string;
}

export interface ArmCountsAtLook {
  requests: number;
  errors: number;
  slow: number;
  slowShift: number | null;
}

/** One look of the canary judge, as its decision recorded it. */
export interface CanaryLook {
  /** 1, 2, … over the whole canary in this environment (every step). */
  index: number;
  at: string;
  /** The canary step (1-based) and its weight in percent. */
  step: number;
  weight: number;
  /** The look within the step, and the looks the step's bake allows. */
  poll: number;
  of: number | null;
  /** The decision's verdict (`waiting` while inconclusive). */
  verdict: Decision['verdict'];
  summary: string;
  canary: ArmCountsAtLook;
  baseline: ArmCountsAtLook;
  expectedShare: number | null;
  observedShare: number | null;
  metrics: LookMetric[];
}

export interface CanarySeries {
  environment: string;
  looks: CanaryLook[];
  /** The configured relative margin (`passRatio`) of this environment's canary, from the release's config snapshot. */
  passRatio: number | null;
  /** Where the judge ended a step: passed (the step advanced) or failed. */
  verdicts: { index: number; step: number; weight: number; verdict: 'passed' | 'failed'; summary: string }[];
  /** The bake plans recorded (one per step). */
  plans: { step: number | null; weight: number | null; summary: string }[];
}

export interface ReportModel {
  service: string;
  version: string;
  release: ReleaseRecord;
  outcome: OutcomeRecord | undefined;
  /** `succeeded`, `failed`, `rolled-back`, `aborted`, or `in progress` without an outcome yet. */
  verdict: string;
  /** The environments planned, in order. */
  plan: string[];
  lanes: LaneSpan[];
  timeline: TimelineBar[];
  decisions: Decision[];
  approvals: ApprovalEntry[];
  canaries: CanarySeries[];
  notes: ReleaseNotes | undefined;
  /** What Verify provenance accepted or refused (issue 17); absent when the service's policy asked nothing. */
  supplyChain?: SupplyChainFacts | undefined;
}

const RELEASE_LANE = 'release';

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const num = (x: unknown): number | null => (typeof x === 'number' && Number.isFinite(x) ? x : null);
const str = (x: unknown): string | undefined => (typeof x === 'string' ? x : undefined);
const ms = (a: string, b: string) => Math.max(0, Date.parse(b) - Date.parse(a));

/** The report's model of one release. */
export function reportModel(data: ReleaseData): ReportModel {
  const { release, outcome } = data;
  // Stable by time: decisions written in the same millisecond keep the ledger's order.
  const decisions = data.decisions.map((d, i) => ({ d, i })).sort((a, b) => Date.parse(a.d.at) - Date.parse(b.d.at) || a.i - b.i).map((x) => x.d);
  // A retried release: its timeline and canary are the current attempt's (the decisions table keeps every attempt's).
  const current = (release.attempt ?? 1) > 1 ? decisions.filter((d) => Date.parse(d.at) >= Date.parse(release.startedAt)) : decisions;
  const timeline = timelineOf(release.startedAt, current);
  return {
    service: release.service,
    version: release.version,
    release,
    outcome,
    verdict: outcome?.outcome ?? 'in progress',
    plan: release.plan,
    lanes: lanesOf(timeline),
    timeline,
    decisions,
    approvals: approvalsOf(decisions),
    canaries: canariesOf(current, release.configSnapshot),
    notes: data.notes,
    supplyChain: supplyChainOf(decisions),
  };
}

/** The weight a judge decision was taken at, for its bar's label. */
const weightOf = (d: Decision) => (isObject(d.evidence) ? num(d.evidence.weight) : null);

function timelineOf(startedAt: string, decisions: Decision[]): TimelineBar[] {
  const bars: TimelineBar[] = [];
  let cursor = startedAt;
  for (const d of decisions) {
    // A bake plan is written within a look of the judge: it is a decision, not a span of time.
    if (d.step === 'plan') continue;
    const lane = d.environment ?? RELEASE_LANE;
    const weight = d.step === 'judge' ? weightOf(d) : null;
    const label = weight === null ? d.step : `${d.step} at ${weight}%`;
    const last = bars.at(-1);
    // A decision before the cursor (clocks of two writers) starts and ends at its own time.
    const start = Date.parse(d.at) < Date.parse(cursor) ? d.at : cursor;
    if (last && last.lane === lane && last.label === label) {
      last.end = d.at;
      last.ms = ms(last.start, last.end);
      last.verdict = d.verdict;
      last.decisions++;
    } else {
      bars.push({ lane, label, start, end: d.at, ms: ms(start, d.at), verdict: d.verdict, decisions: 1 });
    }
    cursor = d.at;
  }
  return bars;
}

function lanesOf(bars: TimelineBar[]): LaneSpan[] {
  const spans = new Map<string, LaneSpan>();
  for (const b of bars) {
    const s = spans.get(b.lane);
    if (!s) spans.set(b.lane, { lane: b.lane, start: b.start, end: b.end, ms: ms(b.start, b.end) });
    else {
      s.end = b.end;
      s.ms = ms(s.start, s.end);
    }
  }
  return [...spans.values()];
}

/** Who approved or rejected what, and when, from the approval decisions' evidence (approval-decision.ts). */
function approvalsOf(decisions: Decision[]): ApprovalEntry[] {
  const out: ApprovalEntry[] = [];
  const seen = new Set<string>();
  const add = (e: ApprovalEntry) => {
    const key = `${e.environment}|${e.kind}|${e.who}|${e.at}|${e.decision}`;
    if (!seen.has(key)) {
      seen.add(key);
      out.push(e);
    }
  };
  for (const d of decisions) {
    if (d.step !== 'approval' || !isObject(d.evidence)) continue;
    const e = d.evidence;
    const environment = d.environment ?? RELEASE_LANE;
    const kind = str(e.kind) ?? 'emergency';
    const given = Array.isArray(e.approvals) ? e.approvals : [];
    for (const a of given) {
      if (isObject(a) && typeof a.approver === 'string' && typeof a.at === 'string') add({ environment, kind, who: a.approver, at: a.at, decision: 'approved' });
    }
    if (typeof e.approver === 'string' && typeof e.at === 'string') add({ environment, kind, who: e.approver, at: e.at, decision: 'approved' });
    const r = e.rejectedBy;
    if (isObject(r) && typeof r.approver === 'string' && typeof r.at === 'string') {
      add({ environment, kind, who: r.approver, at: r.at, decision: 'rejected', ...(typeof r.comment === 'string' ? { comment: r.comment } : {}) });
    }
  }
  return out.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
}

const arm = (x: unknown): ArmCountsAtLook => {
  const a = isObject(x) ? x : {};
  return { requests: num(a.requests) ?? 0, errors: num(a.errors) ?? 0, slow: num(a.slow) ?? 0, slowShift: num(a.slowShift) };
};

function lookMetrics(x: unknown): LookMetric[] {
  if (!Array.isArray(x)) return [];
  const out: LookMetric[] = [];
  for (const m of x) {
    if (!isObject(m) || typeof m.metric !== 'string') continue;
    const interval = Array.isArray(m.interval) ? m.interval : [];
    const lo = num(interval[0]);
    const hi = num(interval[1]);
    if (lo === null || hi === null) continue;
    out.push({ metric: m.metric, ratio: num(m.ratio), lo, hi, margin: num(m.margin), verdict: str(m.verdict) ?? 'inconclusive' });
  }
  return out;
}

/** The judge's looks in each environment with a canary, in order, from the judge decisions' evidence (canary.ts judgeCanary). */
function canariesOf(decisions: Decision[], configSnapshot: string): CanarySeries[] {
  const byEnv = new Map<string, CanarySeries>();
  const series = (environment: string) => {
    let s = byEnv.get(environment);
    if (!s) {
      s = { environment, looks: [], passRatio: passRatioOf(configSnapshot, environment), verdicts: [], plans: [] };
      byEnv.set(environment, s);
    }
    return s;
  };
  for (const d of decisions) {
    if (!d.environment || !isObject(d.evidence)) continue;
    const e = d.evidence;
    if (d.step !== 'judge' || !isObject(e.counts)) continue;
    const s = series(d.environment);
    const judgement = isObject(e.judgement) ? e.judgement : {};
    const srm = isObject(judgement.srm) ? judgement.srm : {};
    const look: CanaryLook = {
      index: s.looks.length + 1,
      at: d.at,
      step: num(e.step) ?? 1,
      weight: num(e.weight) ?? 0,
      poll: num(e.poll) ?? s.looks.length + 1,
      of: num(e.of),
      verdict: d.verdict,
      summary: d.summary,
      canary: arm(e.counts.canary),
      baseline: arm(e.counts.baseline),
      expectedShare: num(srm.expectedShare),
      observedShare: num(srm.observedShare),
      metrics: lookMetrics(judgement.metrics),
    };
    s.looks.push(look);
    if (d.verdict === 'passed' || d.verdict === 'failed') s.verdicts.push({ index: look.index, step: look.step, weight: look.weight, verdict: d.verdict, summary: d.summary });
  }
  // A plan is recorded at the first look of its step that could act: it belongs to the step of the next look.
  for (const s of byEnv.values()) {
    const plans = decisions.filter((d) => d.step === 'plan' && d.environment === s.environment);
    s.plans = plans.map((p) => {
      const next = s.looks.find((l) => Date.parse(l.at) >= Date.parse(p.at));
      const plan = isObject(p.evidence) && isObject(p.evidence.plan) ? p.evidence.plan : {};
      return { step: next?.step ?? null, weight: next?.weight ?? null, summary: str(plan.summary) ?? p.summary };
    });
  }
  return [...byEnv.values()].filter((s) => s.looks.length > 0);
}

/** `passRatio` of an environment's canary in the config the release used (its snapshot in the ledger); null when absent. */
function passRatioOf(configSnapshot: string, environment: string): number | null {
  try {
    const service = JSON.parse(configSnapshot) as unknown;
    if (!isObject(service) || !Array.isArray(service.environments)) return null;
    const env = service.environments.find((e) => isObject(e) && e.name === environment);
    return isObject(env) && isObject(env.canary) ? num(env.canary.passRatio) : null;
  } catch {
    return null;
  }
}
