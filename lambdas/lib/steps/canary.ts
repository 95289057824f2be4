import { type CanaryConfig, type EnvironmentConfig, type ServiceConfig, type TargetConfig } from '../config.js';
import { targetFor } from '../targets.js';
import { decide, emptyEnvironment } from '../decisions.js';
import { CanaryFailed, CanaryInconclusive, DeployFailed, LockLost } from '../errors.js';
import { judge } from '../judge/judge.js';
import { estimateStep, MIN_THRESHOLD_REQUESTS, recommendLooks, type StepEstimate, type TrafficProfile } from '../judge/plan.js';
import type { JudgeConfig } from '../judge/types.js';
import { approvalTimeoutSeconds } from '../approval-timeout.js';
import type { ArmMetrics, CanaryArms, Deps, MetricsSource } from '../ports.js';
import type { CanaryState, LatencyThresholds, ReleaseContext, ReleaseRequest } from '../types.js';
import { shiftTo, stagedOf, type DeployInput } from './deploy.js';

/**
 * The canary loop's steps. The state machine runs: start → (bake → judge)* → shift → … until
 * the canary has 100% of traffic; a `fail` verdict (or an inconclusive step at its bake bound,
 * failing safe) throws, and the environment is rolled back like any failed stage. With
 * `onInconclusive: "hold"` an inconclusive step at its bound answers `hold` instead: the
 * canary keeps its weight while a person decides (the approval gate, kind `canary-hold`).
 */

/** A canary held for a decision: what the request says, and the machine's timeout for it. */
export interface CanaryHold {
  /** Why it is held (the judge's last summary). */
  reason: string;
  weight: number;
  /** 1-based step. */
  step: number;
  /** The judge's last evidence, kept with the request. */
  evidence: unknown;
  /** The hold Task's TimeoutSecondsPath (policy.approvalTimeoutHours). */
  approvalTimeoutSeconds: number;
  /** The failure's cause when nobody decides in time (the machine cannot compute it). */
  timeoutReason: string;
}

export type CanaryOutput =
  | (CanaryState & { mode: 'canary'; baselineVersion: string; next?: 'wait' | 'advance' | 'hold'; hold?: CanaryHold })
  | { mode: 'full'; weight: 100; version: string };

export interface CanaryStepInput {
  releaseId: string;
  executionId: string;
  release: ReleaseRequest;
  service: ServiceConfig;
  environment: EnvironmentConfig;
  canary: CanaryOutput;
  /** Only the judge reads it (a held canary's deciders). */
  approvals?: ReleaseContext['approvals'];
}

const canaryConfig = (env: EnvironmentConfig): CanaryConfig => {
  if (!env.canary) throw new Error(`environment ${env.name} has no canary config`);
  return env.canary;
};

/** Deploys the new version beside the live one at the first step's weight (or all at once when nothing is live). */
export async function startCanary(input: DeployInput, deps: Pick<Deps, 'ledger' | 'targets' | 'clock'>): Promise<CanaryOutput> {
  const { release } = input;
  const env = input.environment.name;
  const cfg = canaryConfig(input.environment);
  const state = (await deps.ledger.getEnvironment(release.service, env)) ?? emptyEnvironment(release.service, env);
  if (state.lockHolder !== input.executionId) throw new LockLost(`${env} of ${release.service} is not locked by this execution; refusing to deploy`);
  const target = targetFor(input.service, input.environment);
  const adapter = deps.targets(target);

  if (!state.version || !state.healthy || !adapter.startCanary) {
    // Nothing healthy to compare with (a first release): there is no baseline, so no canary.
    const why = !state.version ? 'nothing is live yet' : !state.healthy ? `the live ${state.version} is not known-good` : `target ${target.type} cannot split traffic`;
    await shiftTo({ state, version: release.version, holder: input.executionId, releaseId: input.releaseId, service: input.service, environment: input.environment, artifact: input.artifact, location: input.promoted, ...stagedOf(input) }, deps);
    await decide(deps, release, { step: 'canary', environment: env, verdict: 'skipped', summary: `no canary in ${env}: ${why}; all traffic to ${release.version}` });
    return { mode: 'full', weight: 100, version: release.version };
  }

  const weight = cfg.steps[0]!;
  let result;
  try {
    result = await adapter.startCanary({ service: release.service, environment: env, version: release.version, target, location: input.promoted, artifact: input.artifact, ...stagedOf(input) }, weight);
  } catch (err) {
    throw err instanceof Error && err.name !== 'Error' ? err : new DeployFailed(`starting the canary of ${release.version} in ${env} failed: ${(err as Error).message}`);
  }
  const startedAt = deps.clock.now().toISOString();
  const canary: CanaryState = { version: release.version, ref: result.ref, ...(result.baselineRef ? { baselineRef: result.baselineRef } : {}), weight, stepIndex: 0, stepStartedAt: startedAt, polls: 0, startedAt };
  await deps.ledger.putEnvironment({ ...state, canary, refs: { ...state.refs, [release.version]: result.ref }, lastReleaseId: input.releaseId, updatedAt: canary.stepStartedAt }, input.executionId);
  await decide(deps, release, { step: 'canary', environment: env, verdict: 'done', summary: `canary ${release.version} gets ${weight}% of ${env} beside ${state.version}`, evidence: { canary, steps: cfg.steps } });
  return { mode: 'canary', baselineVersion: state.version, ...canary };
}

/** The canary and the live version it is compared with, as the target and the metrics name them. */
function armsOf(input: CanaryStepInput, c: Extract<CanaryOutput, { mode: 'canary' }>, target: TargetConfig): CanaryArms {
  return {
    service: input.release.service,
    environment: input.environment.name,
    target,
    canary: { version: c.version, ref: c.ref },
    baseline: { version: c.baselineVersion, ...(c.baselineRef ? { ref: c.baselineRef } : {}) },
  };
}

/** One look: the judge on the counts since the step began. Throws on fail (and on inconclusive at the bake bound, by default). */
export async function judgeCanary(input: CanaryStepInput, deps: Pick<Deps, 'ledger' | 'metrics' | 'clock' | 'lockTtlMs'>): Promise<CanaryOutput> {
  const c = input.canary;
  if (c.mode !== 'canary') return c;
  const cfg = canaryConfig(input.environment);
  const env = input.environment.name;
  // A bake can outlast the lock's lifetime: every look renews it, or finds it lost.
  const renewed = await deps.ledger.acquireLock(input.release.service, env, input.executionId, deps.clock.now().getTime(), deps.lockTtlMs);
  if (!renewed.acquired) throw new LockLost(`${env} of ${input.release.service} was taken over by ${renewed.holder} during the canary`);
  const target = targetFor(input.service, input.environment);
  const until = deps.clock.now().toISOString();
  const arms = armsOf(input, c, target);
  const source = deps.metrics(target);
  const judgesLatency = cfg.metrics.includes('latency');
  const latency = judgesLatency ? await latencyThresholds(c, arms, cfg, source, until) : { waiting: '' };
  // Until its thresholds are fixed, latency cannot be judged, so the canary cannot pass; the
  // other metrics keep their share of alpha, or the family-wise rate would grow past alpha.
  const waiting = latency.waiting !== '';
  const metrics = waiting ? cfg.metrics.filter((m) => m !== 'latency') : cfg.metrics;
  const custom = cfg.customMetrics.map((m) => m.name);
  // Nothing judged yet (latency alone, waiting): the judge answers inconclusive whatever alpha is.
  const judgedNow = metrics.length + custom.length;
  const alpha = judgedNow > 0 ? (cfg.alpha * judgedNow) / (cfg.metrics.length + custom.length) : cfg.alpha;
  const counts = await source.armCounts({
    ...arms,
    since: c.stepStartedAt,
    until,
    ...(latency.thresholds ? { thresholds: latency.thresholds } : {}),
    ...(custom.length ? { custom: cfg.customMetrics } : {}),
  });
  // The fail side spends its alpha over the step's bake horizon; it needs every earlier look of
  // the step, so without them (a state from before they were kept) the judge uses its
  // anytime-valid test alone, which is valid whatever came before.
  const history = c.looks ?? [];
  const judgeConfig = {
    alpha,
    metrics,
    custom,
    passRatio: cfg.passRatio,
    maxErrorRateIncrease: cfg.maxErrorRateIncrease,
    maxSlowShareIncrease: cfg.maxSlowShareIncrease,
    beta: cfg.beta,
    minCanaryRequests: cfg.minCanaryRequests,
  };
  // The horizon in looks (the polls the bake bound allows): this is look polls + 1 of them.
  const bake = bakeOf(c, cfg, counts, judgeConfig);
  const maxPolls = bake.looks;
  const horizon = history.length === c.polls ? { horizonLooks: maxPolls, history } : undefined;
  const judged = judge(counts.canary, counts.baseline, c.weight / 100, judgeConfig, horizon);
  const waited = waiting ? { ...judged, verdict: judged.verdict === 'pass' ? ('inconclusive' as const) : judged.verdict, reason: `${latency.waiting}; ${judged.reason}` } : judged;
  // Zero events read the same as a metric nobody publishes under that name: say which it may be.
  const judgement = counts.unpublished?.length ? { ...waited, reason: `${waited.reason}; ${unpublishedNote(cfg, counts.unpublished)}` } : waited;
  const polls = c.polls + 1;
  const evidence = {
    weight: c.weight,
    step: c.stepIndex + 1,
    poll: polls,
    of: maxPolls,
    counts,
    ...(judgesLatency ? { latencyThresholds: latency.thresholds ?? latency.waiting } : {}),
    ...(bake.plan ? { plan: bake.plan } : {}),
    judgement,
  };
  const looks = horizon && judgement.look ? [...history, judgement.look] : undefined;
  const { looks: _oldLooks, ...rest } = c;
  const state = {
    ...rest,
    polls,
    ...(looks ? { looks } : {}),
    ...(bake.fixed !== undefined ? { bakeLooks: bake.fixed } : {}),
    ...(latency.thresholds ? { latencyThresholds: latency.thresholds } : {}),
  };
  const at = `in ${env} at ${c.weight}% (look ${polls}/${maxPolls})`;
  // The first look that could act says, once per step, what the traffic allows (and the bake it chose).
  if (bake.plan) await decide(deps, input.release, { step: 'plan', environment: env, verdict: 'done', summary: `canary ${c.version} in ${env} at ${c.weight}%: ${bake.plan.summary}`, evidence: { plan: bake.plan } });

  if (judgement.verdict === 'fail') {
    await decide(deps, input.release, { step: 'judge', environment: env, verdict: 'failed', summary: `canary ${c.version} failed ${at}: ${judgement.reason}`, evidence });
    throw new CanaryFailed(`canary ${c.version} failed ${at}: ${judgement.reason}`);
  }
  if (judgement.verdict === 'pass') {
    await decide(deps, input.release, { step: 'judge', environment: env, verdict: 'passed', summary: `canary ${c.version} passed ${at}: ${judgement.reason}`, evidence });
    return { ...state, next: 'advance' };
  }
  if (polls < maxPolls) {
    await decide(deps, input.release, { step: 'judge', environment: env, verdict: 'waiting', summary: `canary ${c.version} inconclusive ${at}: ${judgement.reason}`, evidence });
    return { ...state, next: 'wait' };
  }
  const summary = `canary ${c.version} still inconclusive in ${env} at ${c.weight}% after ${polls} look${polls === 1 ? '' : 's'}, the bake bound${bake.noTraffic ? ` (${bake.noTraffic})` : ''}: ${judgement.reason}`;
  if (cfg.onInconclusive === 'promote') {
    await decide(deps, input.release, { step: 'judge', environment: env, verdict: 'passed', summary: `${summary}; promoting as configured (onInconclusive: promote)`, evidence });
    return { ...state, next: 'advance' };
  }
  if (cfg.onInconclusive === 'hold') return holdCanary(input, deps, { ...state, next: 'hold' }, summary, evidence);
  await decide(deps, input.release, { step: 'judge', environment: env, verdict: 'failed', summary: `${summary}; failing safe`, evidence });
  throw new CanaryInconclusive(`${summary}; failing safe (onInconclusive: rollback)`);
}

/** What the step's bake is, and what the traffic allows, at one look. */
interface Bake {
  /** The looks the step may bake this look (its horizon). */
  looks: number;
  /** Set at the look that plans the bake (to store in the canary's state: planned once per step). */
  fixed?: number;
  /** The estimate this look records: at the first look that could act. */
  plan?: StepEstimate & { traffic: TrafficProfile; recommendedLooks: number; capped: boolean; summary: string };
  /** Why a step ended with no verdict possible: no canary traffic arrived. */
  noTraffic?: string;
}

/**
 * The step's bake in looks. Configured (`maxBakeSeconds`): that. Otherwise the traffic sets it at
 * the first look at which the judge can act (minCanaryRequests canary requests; CloudWatch's
 * first minutes may be empty): the fewest looks at which a healthy canary passes in 95% of
 * releases (`recommendLooks`), capped by `bakeCapSeconds`, from the totals of both arms so far —
 * their requests and errors, never how the events split between the arms, so the fail side's
 * spending stays valid. Until then the step waits for traffic at most as long as the old fixed
 * default (15 minutes), then ends inconclusive saying so.
 */
function bakeOf(c: CanaryState, cfg: CanaryConfig, counts: { canary: ArmMetrics; baseline: ArmMetrics }, judgeConfig: Partial<JudgeConfig>): Bake {
  const lookNow = c.polls + 1;
  const capLooks = Math.max(1, Math.floor(cfg.bakeCapSeconds / cfg.pollSeconds));
  const configured = cfg.maxBakeSeconds === undefined ? undefined : Math.max(1, Math.floor(cfg.maxBakeSeconds / cfg.pollSeconds));
  // Planned at an earlier look: the bake stays as it was set.
  if (c.bakeLooks !== undefined) return { looks: configured ?? c.bakeLooks };
  const set = configured;
  const canAct = counts.canary.requests >= cfg.minCanaryRequests;
  if (set !== undefined && !canAct) return { looks: set };
  if (!canAct) {
    const waitLooks = Math.min(capLooks, Math.max(1, Math.ceil(NO_TRAFFIC_WAIT_SECONDS / cfg.pollSeconds)));
    const noTraffic = `only ${counts.canary.requests} canary requests in ${lookNow} look${lookNow === 1 ? '' : 's'}, ${cfg.minCanaryRequests} needed before the judge can act: is traffic reaching the canary?`;
    return { looks: Math.max(lookNow, waitLooks), ...(lookNow >= waitLooks ? { noTraffic } : {}) };
  }
  const requests = counts.canary.requests + counts.baseline.requests;
  const traffic: TrafficProfile = {
    requestsPerMinute: (requests / lookNow) * (60 / cfg.pollSeconds),
    // One error added: a first look without errors does not promise a service that never fails.
    errorRate: (counts.canary.errors + counts.baseline.errors + 1) / (requests + 1),
  };
  const weight = c.weight / 100;
  const rec = recommendLooks({ traffic, weight, pollSeconds: cfg.pollSeconds, judge: judgeConfig }, capLooks);
  const looks = Math.max(lookNow, set ?? rec.looks);
  const estimate = set === undefined ? rec.estimate : estimateStep({ traffic, weight, looks, pollSeconds: cfg.pollSeconds, judge: judgeConfig });
  const summary = planSummary(estimate, traffic, cfg, looks, rec, set !== undefined);
  return { looks, fixed: looks, plan: { ...estimate, traffic, recommendedLooks: rec.looks, capped: rec.capped, summary } };
}

/** The longest a step without `maxBakeSeconds` waits for the canary's first requests. */
const NO_TRAFFIC_WAIT_SECONDS = 900;

const pctOf = (x: number) => (x >= 0.995 ? 'over 99%' : x < 0.01 ? 'under 1%' : `about ${Math.round(100 * x)}%`);
const minutesOf = (m: number) => (m >= 120 && m % 60 === 0 ? `${m / 60} h` : `${Number(m.toPrecision(3))} min`);

function planSummary(e: StepEstimate, t: TrafficProfile, cfg: CanaryConfig, looks: number, rec: { looks: number; capped: boolean }, configured: boolean): string {
  const bakeMinutes = (looks * cfg.pollSeconds) / 60;
  const traffic = `${Math.round(t.requestsPerMinute)} req/min, ${Number((100 * t.errorRate).toPrecision(2))}% errors, ${Math.round(100 * e.weight)}% to the canary: about ${Math.round(e.expectedCanaryErrors)} canary errors expected in ${minutesOf(bakeMinutes)}`;
  const x2 = cfg.metrics.includes('errors') ? e.caught.find((d) => d.ratio === 2) : undefined;
  const chances = `a healthy canary passes within the bake in ${pctOf(e.healthyPass)} of releases${x2 ? `, errors ×2 are caught in ${pctOf(x2.chance)}` : ''}`;
  const recMinutes = minutesOf((rec.looks * cfg.pollSeconds) / 60);
  if (configured) {
    const advice = e.healthyPass < 0.95 ? (rec.capped ? `; even ${minutesOf((cfg.bakeCapSeconds / 60))} (bakeCapSeconds) would not reach 95%` : `; 95% needs a bake of ${recMinutes}`) : '';
    return `plan (maxBakeSeconds ${cfg.maxBakeSeconds}): at ${traffic}, ${chances}${advice}`;
  }
  if (rec.capped) {
    return `plan: the traffic cannot support a decision within the ${minutesOf(bakeMinutes)} cap (bakeCapSeconds ${cfg.bakeCapSeconds}): at ${traffic}, ${chances}; a larger first step or more traffic would help, or onInconclusive decides`;
  }
  return `plan: bake ${minutesOf(bakeMinutes)} from the traffic (${traffic}); ${chances}`;
}

/**
 * `onInconclusive: "hold"` at the bake bound: the canary stays at its weight and the machine
 * asks `policy.approvers` for one decision (promote or roll back) within
 * `policy.approvalTimeoutHours`, as the policy said when the release started (the release
 * context carries them, so the judge reads no config); with nobody to ask it fails safe.
 */
async function holdCanary(
  input: CanaryStepInput,
  deps: Pick<Deps, 'ledger' | 'clock' | 'lockTtlMs'>,
  state: Extract<CanaryOutput, { mode: 'canary' }>,
  summary: string,
  evidence: Record<string, unknown>,
): Promise<CanaryOutput> {
  const env = input.environment.name;
  const { service, version } = input.release;
  const policy = input.approvals;
  if (!policy || policy.approvers.length === 0) {
    const why = `${summary}; onInconclusive is "hold" but policy.approvers lists nobody to decide, so failing safe (add approvers to policy.approvers)`;
    await decide(deps, input.release, { step: 'judge', environment: env, verdict: 'failed', summary: why, evidence });
    throw new CanaryInconclusive(why);
  }
  const hours = policy.approvalTimeoutHours;
  const seconds = approvalTimeoutSeconds(hours);
  // Nobody may deploy over a canary a person is deciding on: the lock outlives the hold
  // (the next look, or the rollback, takes it back to its usual lifetime).
  const held = await deps.ledger.acquireLock(service, env, input.executionId, deps.clock.now().getTime(), seconds * 1000 + deps.lockTtlMs);
  if (!held.acquired) throw new LockLost(`${env} of ${service} was taken over by ${held.holder} as the canary was held`);
  await decide(deps, input.release, { step: 'judge', environment: env, verdict: 'waiting', summary: `${summary}; held at ${state.weight}% for a decision from ${policy.approvers.join(', ')} (onInconclusive: hold)`, evidence });
  return {
    ...state,
    hold: {
      reason: summary,
      weight: state.weight,
      step: state.stepIndex + 1,
      evidence,
      approvalTimeoutSeconds: seconds,
      timeoutReason: `the canary of ${service} ${version} held at ${state.weight}% of ${env} got no promote or rollback decision within ${hours} h (policy.approvalTimeoutHours), so it fails safe`,
    },
  };
}

function unpublishedNote(cfg: CanaryConfig, names: string[]): string {
  const which = cfg.customMetrics.filter((m) => names.includes(m.name)).map((m) => `${m.name} (${m.namespace} ${m.metricName} by ${m.versionDimension})`);
  return `no datapoint at all from either version for ${which.join(', ')}: if the service does publish it, check the name and the version dimension`;
}

export { MIN_THRESHOLD_REQUESTS };

/**
 * The latency thresholds, fixed once per canary: the baseline's p90 and p99 over its first
 * requests beside the canary, once there are enough of them (the configured `slowThresholdMs`
 * replaces the p99). The baseline beside the canary serves under the same load at the same
 * time, so its percentiles put about 10% and 1% of either arm's requests over the thresholds,
 * whatever the hour before looked like (a cold start, a quieter time of day). Until then
 * `waiting` says why latency is not judged yet.
 */
async function latencyThresholds(
  c: CanaryState,
  arms: CanaryArms,
  cfg: CanaryConfig,
  source: MetricsSource,
  until: string,
): Promise<{ thresholds?: LatencyThresholds; waiting: string }> {
  if (c.latencyThresholds) return { thresholds: c.latencyThresholds, waiting: '' };
  const l = await source.baselineLatency({ ...arms, since: c.startedAt ?? c.stepStartedAt, until });
  if (l.requests < MIN_THRESHOLD_REQUESTS) {
    return { waiting: `latency not judged yet: its thresholds need ${MIN_THRESHOLD_REQUESTS} baseline requests, ${l.requests} so far` };
  }
  const basis = `${arms.baseline.version}'s first ${l.requests} requests beside the canary: p90 ${round(l.p90Ms)} ms, p99 ${round(l.p99Ms)} ms`;
  return {
    thresholds: { tailMs: cfg.slowThresholdMs ?? l.p99Ms, shiftMs: l.p90Ms, basis: cfg.slowThresholdMs ? `${basis} (slowThresholdMs ${cfg.slowThresholdMs} ms replaces the p99)` : basis },
    waiting: '',
  };
}

const round = (ms: number) => String(Number(ms.toPrecision(3)));

/** Moves the canary to the next step's weight; at 100% it is the live version. */
export async function shiftCanary(input: CanaryStepInput, deps: Pick<Deps, 'ledger' | 'targets' | 'clock'>): Promise<CanaryOutput> {
  const c = input.canary;
  if (c.mode !== 'canary') return c;
  const cfg = canaryConfig(input.environment);
  const env = input.environment.name;
  const target = targetFor(input.service, input.environment);
  const stepIndex = c.stepIndex + 1;
  const weight = cfg.steps[stepIndex] ?? 100;
  await deps.targets(target).setCanaryWeight!(armsOf(input, c, target), weight);
  const state = (await deps.ledger.getEnvironment(input.release.service, env))!;
  const stepStartedAt = deps.clock.now().toISOString();
  // The canary's state goes on as it was (its start, its latency thresholds), at the new step.
  const { mode: _mode, baselineVersion: _baseline, next: _next, hold: _hold, looks: _looks, bakeLooks: _bake, ...kept } = c;
  const next: CanaryState = { ...kept, weight, stepIndex, stepStartedAt, polls: 0 };
  await deps.ledger.putEnvironment(
    weight === 100 ? { ...state, version: c.version, healthy: false, canary: null, updatedAt: stepStartedAt } : { ...state, canary: next, updatedAt: stepStartedAt },
    input.executionId,
  );
  await decide(deps, input.release, { step: 'canary', environment: env, verdict: 'done', summary: weight === 100 ? `${c.version} now has all of ${env}'s traffic` : `canary ${c.version} moved to ${weight}% of ${env}` });
  return { mode: 'canary', baselineVersion: c.baselineVersion, ...next };
}
