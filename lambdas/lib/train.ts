import * as z from 'zod';
import type { PipelineConfig } from './config.js';
import { InvalidInput } from './errors.js';
import type { Deps } from './ports.js';
import { trainEnvironments, trainGroups } from './train-config.js';
import type { Decision } from './types.js';
import { describeIssues } from './validation.js';
import { versionProblem } from './version.js';

/**
 * The train's conductor (train.asl.json's "Conduct train"): plans the train, then after each
 * group reads what its members' own release executions left in the ledger and says which
 * group goes next, or that the train is done. The members' releases keep their own locks,
 * canaries, smoke tests, rollbacks and records; this only orders them.
 */

export const TRAIN_INPUT_EXAMPLE = '{"train":"accounts","version":"v1.100.0"}';

const trainInput = z.strictObject({
  train: z.string({ error: 'expected a train name from the config\'s "trains", e.g. "accounts"' }).min(1),
  version: z.string({ error: 'expected a version string such as "v1.100.0"' }).superRefine((v, ctx) => {
    const problem = versionProblem(v);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  }),
});

/** A member's child release input: the release machine's manual input for one environment. */
export interface MemberLeg {
  service: string;
  version: string;
  environments: [string];
  train: { name: string; execution: string };
}

/** What the Map over a group gives back per member: the child's output, or its error. */
export interface MemberResult {
  service: string;
  ok: boolean;
  output?: { claim?: { reason?: string }; reason?: string } | null;
  error?: string;
  cause?: string;
}

export interface TrainEnvironmentPlan {
  name: string;
  continueOnFailure: boolean;
  groups: string[][];
}

/** A member's fate in one environment. */
export interface MemberFate {
  service: string;
  environment: string;
  status: 'released' | 'failed' | 'not-released';
  reason?: string;
}

export interface TrainState {
  train: string;
  version: string;
  executionId: string;
  maxConcurrency: number;
  environments: TrainEnvironmentPlan[];
  envIndex: number;
  groupIndex: number;
  fates: MemberFate[];
  next: { environment: string; maxConcurrency: number; members: MemberLeg[] } | null;
  outcome?: 'succeeded' | 'stopped';
  summary?: string;
}

export interface ConductInput {
  input: unknown;
  executionId: string;
  state: TrainState | null;
  results: MemberResult[] | null;
}

export function parseTrainInput(input: unknown, config: PipelineConfig): { train: string; version: string } {
  const result = trainInput.safeParse(input, { reportInput: true });
  if (!result.success) throw new InvalidInput(describeIssues(result.error, (path) => (path.length === 0 ? Object.keys(trainInput.shape) : [])), TRAIN_INPUT_EXAMPLE);
  if (!config.trains?.[result.data.train]) {
    throw new InvalidInput([{ field: 'train', problem: `no train "${result.data.train}" in the pipeline config; configured trains: ${Object.keys(config.trains ?? {}).join(', ') || '(none)'}` }], TRAIN_INPUT_EXAMPLE);
  }
  return result.data;
}

/** The train's environments and groups, as the config says when it starts. */
export function planTrain(name: string, config: PipelineConfig): { maxConcurrency: number; environments: TrainEnvironmentPlan[] } {
  const train = config.trains![name]!;
  return {
    maxConcurrency: train.maxConcurrency,
    environments: trainEnvironments(train, config.services).map((env) => ({ name: env, continueOnFailure: train.continueOnFailure[env] ?? false, groups: trainGroups(train, env) })),
  };
}

function legs(state: Omit<TrainState, 'next'>): TrainState['next'] {
  const env = state.environments[state.envIndex]!;
  const group = env.groups[state.groupIndex]!;
  return {
    environment: env.name,
    maxConcurrency: state.maxConcurrency,
    members: group.map((service) => ({ service, version: state.version, environments: [env.name], train: { name: state.train, execution: state.executionId } })),
  };
}

/** Why a member's leg did not leave it known-good: its execution's error, or what its release said. */
function failureReason(result: MemberResult | undefined): string {
  if (!result) return 'its release did not report';
  if (!result.ok) {
    let cause = result.cause ?? '';
    try {
      // Step Functions' .sync failure carries the child's DescribeExecution answer as the cause.
      const child = JSON.parse(cause) as { Error?: string; Cause?: string };
      cause = [child.Error, child.Cause].filter(Boolean).join(': ') || cause;
    } catch {
      // plain text
    }
    return cause || result.error || 'its release failed';
  }
  return result.output?.claim?.reason ?? result.output?.reason ?? 'its release ended without deploying this version';
}

/** One step of the conductor: plan (first call) or take in a group's results and choose what goes next. */
export async function conductTrain(event: ConductInput, deps: Pick<Deps, 'config' | 'ledger' | 'clock'>): Promise<TrainState> {
  if (!event.state) {
    const config = await deps.config();
    const { train, version } = parseTrainInput(event.input, config);
    const plan = planTrain(train, config);
    const base = { train, version, executionId: event.executionId, ...plan, envIndex: 0, groupIndex: 0, fates: [] };
    return { ...base, next: legs(base) };
  }
  const state = event.state;
  const env = state.environments[state.envIndex]!;
  const fates = [...state.fates];
  for (const member of state.next?.members ?? []) {
    // Known-good here is what the ledger says serves, not what the child's status claims.
    const serving = await deps.ledger.getEnvironment(member.service, env.name);
    const good = serving?.version === state.version && serving.healthy && !serving.canary;
    const result = event.results?.find((r) => r.service === member.service);
    fates.push(good && result?.ok !== false ? { service: member.service, environment: env.name, status: 'released' } : { service: member.service, environment: env.name, status: 'failed', reason: failureReason(result) });
  }
  const failedHere = fates.filter((f) => f.environment === env.name && f.status === 'failed');
  const moreGroups = state.groupIndex + 1 < env.groups.length;
  let after: Omit<TrainState, 'next'>;
  if (failedHere.length && (!env.continueOnFailure || !moreGroups)) {
    return stop({ ...state, fates }, failedHere, deps);
  } else if (moreGroups) {
    after = { ...state, fates, groupIndex: state.groupIndex + 1 };
  } else if (state.envIndex + 1 < state.environments.length) {
    after = { ...state, fates, envIndex: state.envIndex + 1, groupIndex: 0 };
  } else {
    const done: TrainState = { ...state, fates, next: null, outcome: 'succeeded', summary: `train ${state.train} ${state.version}: every member is known-good in ${state.environments.map((e) => e.name).join(' → ')}` };
    await recordTrain(done, deps);
    return done;
  }
  return { ...after, next: legs(after) };
}

/** A failure stops the train: every member that did not go gets the reason, in the ledger too. */
async function stop(state: Omit<TrainState, 'next'>, failed: MemberFate[], deps: Pick<Deps, 'ledger' | 'clock'>): Promise<TrainState> {
  const env = state.environments[state.envIndex]!;
  const blame = failed.map((f) => `${f.service} (${f.reason})`).join(', ');
  const why = `the train stopped in ${env.name} after ${blame} failed`;
  const fates = [...state.fates];
  state.environments.forEach((e, i) => {
    if (i < state.envIndex) return;
    for (const service of e.groups.flat()) {
      if (!fates.some((f) => f.service === service && f.environment === e.name)) fates.push({ service, environment: e.name, status: 'not-released', reason: why });
    }
  });
  const stopped: TrainState = { ...state, fates, next: null, outcome: 'stopped', summary: `train ${state.train} ${state.version}: ${why}` };
  await recordTrain(stopped, deps);
  return stopped;
}

/** The train's record: one decision per member on its own release (where it went, why not further) and one for the train. */
async function recordTrain(state: TrainState, deps: Pick<Deps, 'ledger' | 'clock'>): Promise<void> {
  const at = deps.clock.now().toISOString();
  const members = [...new Set(state.environments.flatMap((e) => e.groups.flat()))];
  for (const service of members) {
    const mine = state.fates.filter((f) => f.service === service);
    const went = mine.filter((f) => f.status === 'released').map((f) => f.environment);
    const failed = mine.find((f) => f.status === 'failed');
    const held = mine.find((f) => f.status === 'not-released');
    const summary = [
      `train ${state.train}: released to ${went.join(', ') || 'no environment'}`,
      ...(failed ? [`failed in ${failed.environment}: ${failed.reason}`] : []),
      ...(held ? [`not released to ${mine.filter((f) => f.status === 'not-released').map((f) => f.environment).join(', ')}: ${held.reason}`] : []),
    ].join('; ');
    const decision: Decision = {
      releaseId: `${service}@${state.version}`,
      service,
      version: state.version,
      at,
      step: 'train',
      ...(failed || held ? { environment: (failed ?? held)!.environment } : {}),
      verdict: failed ? 'failed' : held ? 'skipped' : 'done',
      summary,
      evidence: { train: state.train, execution: state.executionId, fates: mine },
    };
    await deps.ledger.recordDecision(decision);
  }
  await deps.ledger.recordDecision({
    releaseId: `${trainKey(state.train)}@${state.version}`,
    service: trainKey(state.train),
    version: state.version,
    at,
    step: 'train',
    verdict: state.outcome === 'succeeded' ? 'done' : 'failed',
    summary: state.summary!,
    evidence: { execution: state.executionId, fates: state.fates },
  });
}

/** The ledger key the train's own record is kept under (decisions of `train:<name>` at the version). */
export const trainKey = (train: string): string => `train:${train}`;
