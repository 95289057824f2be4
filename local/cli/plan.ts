import type { CanaryConfig, EnvironmentConfig, PipelineConfig, ServiceConfig, TargetConfig } from '../../lambdas/lib/config.js';
import { estimateStep, PLAN_TARGET, recommendLooks, simulateStep, type SimulatedStep, type StepEstimate, type StepPlanInput, type TrafficProfile } from '../../lambdas/lib/judge/plan.js';
import type { JudgeConfig } from '../../lambdas/lib/judge/types.js';
import type { Ledger, MetricsSource } from '../../lambdas/lib/ports.js';
import { targetFor } from '../../lambdas/lib/targets.js';
import { bold, dim, yellow } from './progress.js';

/**
 * `tagflow plan`: what a service's traffic allows each canary step below 100%, before a release
 * finds out. Per step: the bake (configured, or the default that follows the traffic), the
 * canary errors it expects, the closed-form chances (`estimateStep`: a healthy canary passes
 * within the bake, errors ×2 and ×5 are caught, and about when), the same measured by the real
 * judge on seeded simulations (`simulateStep`), and the bake that passes 95% of healthy canaries;
 * then, for a step a healthy canary is unlikely to pass, what to change.
 *
 * The traffic is given (`--traffic`, `--error-rate`) or measured by a `TrafficMeter`, a
 * parameter: `liveTrafficMeter` reads the live version's last 7 days through any ledger and
 * metrics source (`MetricsSource.liveTraffic`), the local fleet's today and CloudWatch's for a
 * deployed stack.
 */

export class PlanInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PlanInputError';
  }
}

export const MEASURE_DAYS = 7;
/** The error rate taken when none is given or measured; always said to be an assumption. */
export const ASSUMED_ERROR_RATE = 0.005;
/** The longest bake a step may be configured with (maxBakeSeconds' bound): the search's end for a recommendation. */
const LONGEST_BAKE_SECONDS = 86_400;
/** Below this healthy-pass chance a step gets a sentence on what to change. */
const ADVICE_BELOW = 0.5;
const MULTIPLIERS = [2, 5] as const;

export interface PlanRequest {
  service: string;
  /** Absent: every environment of the service with a canary. */
  environment?: string | undefined;
  /** Requests per minute to the whole environment; absent: measured. */
  requestsPerMinute?: number | undefined;
  /** A share of requests (0.005); absent: measured, else ASSUMED_ERROR_RATE. */
  errorRate?: number | undefined;
  /** Simulated releases per figure; 0 skips the simulation. */
  runs: number;
  seed?: number;
}

/** The live version's traffic over the measured window, or why there is none. */
export type Measurement = { version: string; requests: number; errors: number; minutes: number; days: number } | { none: string };

/** Measures the live version's traffic in one environment of a service. */
export type TrafficMeter = (service: string, environment: EnvironmentConfig, target: TargetConfig) => Promise<Measurement>;

/**
 * The live version (the ledger's record of what serves) and its requests and errors over the
 * last `days` days, through the target's metrics source. Never throws for a source that cannot
 * tell: the reason becomes the measurement's `none`.
 */
export function liveTrafficMeter(deps: { ledger: Pick<Ledger, 'getEnvironment'>; metrics: (target: TargetConfig) => MetricsSource; now: () => Date }, days = MEASURE_DAYS): TrafficMeter {
  return async (service, environment, target) => {
    const state = await deps.ledger.getEnvironment(service, environment.name);
    if (!state?.version) return { none: `nothing is live in ${environment.name} yet` };
    let source: MetricsSource;
    try {
      source = deps.metrics(target);
    } catch (err) {
      return { none: (err as Error).message };
    }
    if (!source.liveTraffic) return { none: `its ${target.type} target's metrics source cannot measure traffic` };
    const until = deps.now();
    const ref = state.refs[state.version];
    const t = await source.liveTraffic({
      service,
      environment: environment.name,
      target,
      version: { version: state.version, ...(ref ? { ref } : {}) },
      since: new Date(until.getTime() - days * 86_400_000).toISOString(),
      until: until.toISOString(),
    });
    if (t.requests === 0) return { none: `the live ${state.version} served no requests in the last ${days} days that this process can see` };
    return { version: state.version, ...t, days };
  };
}

/** `--traffic 600/min` (or a bare 600): requests per minute to the whole environment. */
export function parseTraffic(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(?:\/\s*min)?\s*$/.exec(text);
  const n = m ? Number(m[1]) : NaN;
  if (!(Number.isFinite(n) && n > 0)) throw new PlanInputError(`--traffic ${JSON.stringify(text)}: expected requests per minute to the whole environment (both arms), above 0, e.g. --traffic 600/min`);
  return n;
}

/** `--error-rate 0.5%` or `0.005`: the share of the live version's requests that fail. */
export function parseErrorRate(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(%?)\s*$/.exec(text);
  const n = m ? (m[2] ? Number(m[1]) / 100 : Number(m[1])) : NaN;
  if (!(Number.isFinite(n) && n >= 0 && n < 1)) throw new PlanInputError(`--error-rate ${JSON.stringify(text)}: expected the share of requests that fail, from 0 to below 100%, as a percentage or a fraction, e.g. --error-rate 0.5% or --error-rate 0.005`);
  return n;
}

/** `--runs 200`: simulated releases per figure, 0 to skip. */
export function parseRuns(text: string): number {
  const n = /^\s*\d+\s*$/.test(text) ? Number(text) : NaN;
  if (!(Number.isInteger(n) && n <= 100_000)) throw new PlanInputError(`--runs ${JSON.stringify(text)}: expected a whole number of simulated releases from 0 (no simulation) to 100000, e.g. --runs 200`);
  return n;
}

/** The judge's settings as the canary step passes them, from the environment's canary config. */
export const judgeConfigOf = (c: CanaryConfig): Partial<JudgeConfig> => ({
  alpha: c.alpha,
  metrics: [...c.metrics],
  custom: c.customMetrics.map((m) => m.name),
  passRatio: c.passRatio,
  maxErrorRateIncrease: c.maxErrorRateIncrease,
  maxSlowShareIncrease: c.maxSlowShareIncrease,
  beta: c.beta,
  minCanaryRequests: c.minCanaryRequests,
});

/** Where each figure of the traffic came from, in words. */
interface ResolvedTraffic {
  profile: TrafficProfile;
  rateFrom: string;
  errorRateFrom: string;
}

export interface StepPlan {
  weight: number;
  /** How the bake was set, in words. */
  bakeFrom: string;
  estimate: StepEstimate;
  simulated?: { healthy: SimulatedStep; caught: SimulatedStep[] };
  /** The looks that pass PLAN_TARGET of healthy canaries; null: none within LONGEST_BAKE_SECONDS. */
  recommendedLooks: number | null;
  advice?: string;
}

export interface PlanIO {
  /** Measures the live version's traffic when --traffic or --error-rate is not given; absent: nothing to measure with. */
  meter?: TrafficMeter | undefined;
  /** Progress while simulating (stderr in the CLI). */
  progress?: (line: string) => void;
}

async function resolveTraffic(service: string, environment: EnvironmentConfig, target: TargetConfig, req: PlanRequest, io: PlanIO): Promise<ResolvedTraffic> {
  const needsMeasuring = req.requestsPerMinute === undefined || req.errorRate === undefined;
  const measured: Measurement = needsMeasuring && io.meter ? await io.meter(service, environment, target) : { none: 'no traffic source was given' };
  const window = 'version' in measured ? `measured over the last ${measured.days} days: ${measured.version} served ${count(measured.requests)} requests, ${count(measured.errors)} errors in ${span(measured.minutes)}` : undefined;
  if (req.requestsPerMinute === undefined && !('version' in measured)) {
    throw new PlanInputError(`no traffic measured for ${service} ${environment.name} (${measured.none}); pass --traffic N/min, the requests per minute to the whole environment, e.g. --traffic 600/min (and --error-rate, default ${percent(ASSUMED_ERROR_RATE)})`);
  }
  const requestsPerMinute = req.requestsPerMinute ?? (measured as { requests: number; minutes: number }).requests / (measured as { minutes: number }).minutes;
  const rateFrom = req.requestsPerMinute !== undefined ? 'given with --traffic' : window!;
  if (req.errorRate !== undefined) return { profile: { requestsPerMinute, errorRate: req.errorRate }, rateFrom, errorRateFrom: 'given with --error-rate' };
  if ('version' in measured) return { profile: { requestsPerMinute, errorRate: measured.errors / measured.requests }, rateFrom, errorRateFrom: req.requestsPerMinute === undefined ? 'measured, as above' : window! };
  return { profile: { requestsPerMinute, errorRate: ASSUMED_ERROR_RATE }, rateFrom, errorRateFrom: `an assumption: nothing measured (${measured.none}); pass --error-rate to use yours` };
}

/** Lets a progress line reach the terminal before a long synchronous simulation. */
const yieldToIo = () => new Promise<void>((resolve) => setImmediate(resolve));

async function planStep(label: string, c: CanaryConfig, steps: readonly number[], index: number, traffic: TrafficProfile, req: PlanRequest, io: PlanIO): Promise<StepPlan> {
  const weight = steps[index]!;
  const base: Omit<StepPlanInput, 'looks'> = { traffic, weight: weight / 100, pollSeconds: c.pollSeconds, judge: judgeConfigOf(c) };
  const looksOf = (seconds: number) => Math.max(1, Math.floor(seconds / c.pollSeconds));
  let looks: number;
  let bakeFrom: string;
  if (c.maxBakeSeconds !== undefined) {
    looks = looksOf(c.maxBakeSeconds);
    bakeFrom = `maxBakeSeconds ${c.maxBakeSeconds}`;
  } else {
    const d = recommendLooks(base, looksOf(c.bakeCapSeconds));
    looks = d.looks;
    bakeFrom = d.capped ? `the default, cut at bakeCapSeconds ${c.bakeCapSeconds}: the cap binds` : `the default: the shortest reaching ${percent(PLAN_TARGET)}`;
  }
  const estimate = estimateStep({ ...base, looks }, MULTIPLIERS);
  const longest = recommendLooks(base, looksOf(LONGEST_BAKE_SECONDS));
  const recommendedLooks = longest.capped ? null : longest.looks;

  let simulated: StepPlan['simulated'];
  if (req.runs > 0) {
    const run = async (multiplier: number, what: string, i: number) => {
      io.progress?.(`${label}: simulating ${what}, ${req.runs} runs of up to ${looks} looks (${i}/${MULTIPLIERS.length + 1})…`);
      await yieldToIo();
      return simulateStep({ ...base, looks, errorMultiplier: multiplier, runs: req.runs, seed: req.seed ?? 1 });
    };
    const healthy = await run(1, 'a healthy canary', 1);
    const caught: SimulatedStep[] = [];
    for (const [i, m] of MULTIPLIERS.entries()) caught.push(await run(m, `errors ×${m}`, i + 2));
    simulated = { healthy, caught };
  }
  const plan: StepPlan = { weight, bakeFrom, estimate, ...(simulated ? { simulated } : {}), recommendedLooks };
  const advice = adviceFor(label, c, steps, index, base, plan);
  return advice ? { ...plan, advice } : plan;
}

/** For a step a healthy canary is unlikely to pass: what would make it likely, in one sentence. */
function adviceFor(label: string, c: CanaryConfig, steps: readonly number[], index: number, base: Omit<StepPlanInput, 'looks'>, p: StepPlan): string | undefined {
  const pass = p.simulated ? p.simulated.healthy.pass : p.estimate.healthyPass;
  if (pass >= ADVICE_BELOW) return undefined;
  const bake = span(p.estimate.minutes);
  const options: string[] = [];
  if (p.recommendedLooks !== null) {
    const seconds = p.recommendedLooks * c.pollSeconds;
    if (c.maxBakeSeconds === undefined) options.push(`raise bakeCapSeconds to ${seconds} (${span(seconds / 60)})`);
    else options.push(`set maxBakeSeconds to ${seconds} (${span(seconds / 60)})${seconds <= c.bakeCapSeconds ? ', or leave it out and the bake follows the traffic' : ''}`);
  }
  // A larger share of the traffic at this step: the smallest that passes within the same bake.
  let larger: number | undefined;
  for (let w = p.weight + 1; w < 100 && larger === undefined; w++) if (estimateStep({ ...base, weight: w / 100, looks: p.estimate.looks }, []).healthyPass >= PLAN_TARGET) larger = w;
  if (larger !== undefined) {
    const changed = [...steps.slice(0, index), larger, ...steps.slice(index + 1).filter((w) => w > larger!)];
    options.push(`${index === 0 ? 'start at' : 'step to'} ${larger}% (steps [${changed.join(', ')}])`);
  }
  const canarySteps = steps.filter((w) => w < 100);
  if (canarySteps.length > 1 && index < canarySteps.length - 1) options.push(`leave the ${p.weight}% step out (steps [${steps.filter((_, i) => i !== index).join(', ')}]): fewer steps, each on more of the traffic`);
  const what = options.length ? `${options.join('; or ')}` : `no bake up to ${span(LONGEST_BAKE_SECONDS / 60)} and no larger step is enough at this traffic: judge fewer metrics, or plan the release for busier hours`;
  return `${label}: a healthy canary passes within its ${bake} bake in only ${percent(pass)} of releases; to pass ${percent(PLAN_TARGET)}, ${what}.`;
}

/** The report, line by line (progress goes to `io.progress`). */
export async function planReport(config: PipelineConfig, req: PlanRequest, io: PlanIO = {}): Promise<string[]> {
  const service: ServiceConfig | undefined = config.services[req.service];
  if (!service) throw new PlanInputError(`--service ${req.service}: no such service in the config; it has ${Object.keys(config.services).join(', ') || 'none'}`);
  const withCanary = service.environments.filter((e) => e.canary);
  let environments = withCanary;
  if (req.environment !== undefined) {
    const named = service.environments.find((e) => e.name === req.environment);
    if (!named) throw new PlanInputError(`--environment ${req.environment}: ${req.service} has no such environment; it has ${service.environments.map((e) => e.name).join(', ')}`);
    if (!named.canary) throw new PlanInputError(`--environment ${req.environment}: ${req.service} releases there all at once (no canary config); ${withCanary.length ? `its canary environments: ${withCanary.map((e) => e.name).join(', ')}` : 'add a canary to an environment to plan it'}`);
    environments = [named];
  }
  if (environments.length === 0) throw new PlanInputError(`${req.service} has no environment with a canary config: nothing to plan; add "canary": { "steps": [10, 50, 100] } to an environment`);

  const lines: string[] = [];
  for (const environment of environments) {
    const c = environment.canary!;
    const traffic = await resolveTraffic(req.service, environment, targetFor(service, environment), req, io);
    const steps = c.steps.filter((w) => w < 100);
    const plans: StepPlan[] = [];
    for (const [i] of steps.entries()) plans.push(await planStep(`${req.service} ${environment.name} at ${c.steps[i]}%`, c, c.steps, i, traffic.profile, req, io));
    lines.push(...environmentLines(req.service, environment.name, c, traffic, plans, req.runs), '');
  }
  return lines;
}

function environmentLines(service: string, environment: string, c: CanaryConfig, t: ResolvedTraffic, plans: StepPlan[], runs: number): string[] {
  const judged = [...c.metrics, ...c.customMetrics.map((m) => m.name)].join(', ');
  const lines = [
    bold(`${service} ${environment}`) + `: steps ${c.steps.map((w) => `${w}%`).join(' → ')}, a look every ${c.pollSeconds} s, judged on ${judged} (alpha ${c.alpha})`,
    `  traffic     ${number(t.profile.requestsPerMinute)} requests/min to the environment (${t.rateFrom})`,
    `  error rate  ${percent(t.profile.errorRate)} (${t.errorRateFrom})`,
  ];
  if (plans.length === 0) return [...lines, '  no step below 100%: the release goes all at once, nothing to judge'];
  const caughtCell = (chance: number, minutes: number | null) => `${percent(chance)} (${minutes === null ? '-' : span(minutes)})`;
  const rows: [string, ...string[]][] = [
    ['step', ...plans.map((p) => `${p.weight}%`)],
    ['bake', ...plans.map((p) => `${span(p.estimate.minutes)} (${p.estimate.looks} looks)`)],
    ['canary requests in the bake', ...plans.map((p) => count(p.estimate.canaryRequests))],
    ['expected canary errors', ...plans.map((p) => number(p.estimate.expectedCanaryErrors))],
    ['estimate: healthy passes', ...plans.map((p) => percent(p.estimate.healthyPass))],
    ...MULTIPLIERS.map((m, i): [string, ...string[]] => [`estimate: errors ×${m} caught`, ...plans.map((p) => caughtCell(p.estimate.caught[i]!.chance, p.estimate.caught[i]!.medianMinutes))]),
  ];
  if (runs > 0) {
    rows.push(
      [`judge, ${runs} runs: healthy passes`, ...plans.map((p) => `${percent(p.simulated!.healthy.pass)} (${percent(p.simulated!.healthy.fail)} fail)`)],
      ...MULTIPLIERS.map((m, i): [string, ...string[]] => [`judge, ${runs} runs: errors ×${m} caught`, ...plans.map((p) => caughtCell(p.simulated!.caught[i]!.fail, p.simulated!.caught[i]!.medianFailMinutes))]),
    );
  }
  rows.push([`bake for ${percent(PLAN_TARGET)} healthy passes`, ...plans.map((p) => (p.recommendedLooks === null ? `over ${span(LONGEST_BAKE_SECONDS / 60)}` : span((p.recommendedLooks * c.pollSeconds) / 60)))]);
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((r) => r[col]!.length)));
  lines.push('');
  for (const [i, row] of rows.entries()) {
    const text = `  ${row.map((cell, col) => (col === 0 ? cell.padEnd(widths[0]!) : cell.padStart(widths[col]!))).join('   ')}`;
    lines.push(i === 0 ? bold(text) : text);
  }
  lines.push('');
  const bakes = [...new Set(plans.map((p) => p.bakeFrom))];
  lines.push(dim(`  bake: ${bakes.length === 1 ? bakes[0] : plans.map((p) => `${p.weight}%: ${p.bakeFrom}`).join('; ')}`));
  lines.push(dim(`  caught: the chance the step fails a canary with that many times the errors, and (in brackets) by when half of such canaries have failed; - fewer than half do`));
  if (runs > 0) lines.push(dim(`  judge: the real judge, look by look, on ${runs} seeded simulated releases at this traffic`));
  const advice = plans.flatMap((p) => (p.advice ? [p.advice] : []));
  if (advice.length) lines.push('', ...advice.map((a) => yellow(a)));
  return lines;
}

/** 0.0123 → "1.2%"; extremes kept honest: "<0.1%", ">99.9%". */
export function percent(x: number): string {
  if (x <= 0) return '0%';
  if (x >= 1) return '100%';
  if (x < 0.001) return '<0.1%';
  if (x > 0.999) return '>99.9%';
  const p = x * 100;
  return `${p < 10 ? Number(p.toFixed(1)) : Math.round(p)}%`;
}

const number = (x: number) => (x >= 100 ? count(x) : String(Number(x.toPrecision(2))));
const count = (x: number) => Math.round(x).toLocaleString('en-US');

/** Minutes as a person reads them: "15 min", "2 h 5 min", "3.2 days". */
export function span(minutes: number): string {
  if (minutes < 1) return `${Math.round(minutes * 60)} s`;
  if (minutes < 120) return `${Number(minutes.toFixed(minutes < 10 ? 1 : 0))} min`;
  if (minutes < 2 * 1440) {
    const h = Math.floor(minutes / 60);
    const m = Math.round(minutes - h * 60);
    return m === 60 ? `${h + 1} h` : m === 0 ? `${h} h` : `${h} h ${m} min`;
  }
  return `${Number((minutes / 1440).toFixed(1))} days`;
}
