import './polyfills.js';
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { StateMachine, type RunOptions } from 'aws-local-stepfunctions';
import { DynamoDbApprovals } from '../../lambdas/adapters/dynamodb-approvals.js';
import { DynamoDbLedger } from '../../lambdas/adapters/dynamodb-ledger.js';
import { fetchProbe } from '../../lambdas/adapters/fetch-probe.js';
import { silentLogger } from '../../lambdas/adapters/json-logger.js';
import { S3Store } from '../../lambdas/adapters/s3-store.js';
import type { PipelineConfig, TargetConfig } from '../../lambdas/lib/config.js';
import { type Clock, type Deps, type Locations, type Logger, systemClock } from '../../lambdas/lib/ports.js';
import { stepHandler } from '../../lambdas/lib/step-handler.js';
import { STEP_NAMES, placeholderOf } from '../../lambdas/steps.js';
import { decideApproval, type ApprovalOutcome } from '../../lambdas/lib/approval-decision.js';
import { approversOf, kindOf, type ApprovalKind } from '../../lambdas/lib/approval-kinds.js';
import { evaluatePath } from '../../lambdas/lib/json-path.js';
import { MACHINE_NAMES, type MachineName, readAsl, substitute, taskStates, timestampWaits } from './asl.js';
import { DataDirBusy, LOCAL_ACCOUNT, LOCAL_REGION, startAwsServices, type LocalAwsServices } from './aws-services.js';
import { FleetStateDamaged, LocalFleet } from './fleet.js';
import { FleetMetrics } from './fleet-metrics.js';
import { asLambda } from './local-lambda.js';
import { SimulatedClock } from './simulated-clock.js';
import { STEP_RUNS } from './step-runs.js';
import { LocalTaskTokens } from './task-tokens.js';
import { existsSync } from 'node:fs';
import { aslPath } from './asl.js';
import { eventRules, executionEndedRule, explainNoMatch, rulesMatching, type EventRule } from '../../lambdas/lib/event-rules.js';
import { matchesPattern } from '../../lambdas/lib/event-pattern.js';
import { parseExecutionStatusChange, reconcile, type ReconcileReport, type ReconciledStatus } from '../../lambdas/lib/reconcile.js';
import type { ExecutionStatus } from '../../lambdas/lib/ports.js';
import { processAlive, RunningRegistry } from './running.js';
import { localInvoker, type LocalFunction } from './local-functions.js';
import type { SigningKeyDeps } from '../../lambdas/lib/steps/resolve-artifact.js';
import { localPublicKey, localVerificationSigner } from './local-signer.js';
import type { MessageSigner } from '../../lambdas/lib/supply-chain/dsse.js';

export const LOCAL_LOCATIONS: Locations = { artifactsBucket: 'tagflow-artifacts', environmentsBucket: 'tagflow-environments' };
export const LOCAL_TABLE = 'tagflow-ledger';
export const LOCAL_BUS = 'tagflow';

export const localFunctionArn = (step: string) => `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:tagflow-${step}`;
export const localMachineArn = (machine: MachineName) => `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:stateMachine:tagflow-${machine}`;

/** The substitutions CloudFormation would apply, with local ARNs. */
export function localSubstitutions(): Record<string, string> {
  const subs: Record<string, string> = { EventBusName: LOCAL_BUS, ReleaseStateMachineArn: localMachineArn('release') };
  for (const step of STEP_NAMES) subs[placeholderOf(step)] = localFunctionArn(step);
  return subs;
}

export interface RuntimeOptions {
  dataDir: string;
  config: PipelineConfig;
  clock?: Clock;
  log?: Logger;
  lockTtlMs?: number;
  /** Retry pauses by state name, in ms (local runs need not wait 20 s for a lock). */
  retryIntervals?: Record<string, number | number[]>;
  /** Wait durations by state name, in ms: compresses time (a canary's bake polls) without changing the counts. */
  waits?: Record<string, number>;
  /** Whether a process (of a running-execution record) is alive; tests inject it. @default signal 0 */
  isProcessAlive?: (pid: number) => boolean;
  /** Functions the runtime invokes by name (migrations), before `<dataDir>/functions/<name>.mjs` (local-functions.ts). */
  functions?: Record<string, LocalFunction>;
  /** When another live tagflow process owns the data folder: read its ledger through it ('attach': status, history, dora), or refuse at once (default). */
  share?: 'attach' | 'refuse';
}

/**
 * How long a Wait *until a timestamp* (a deployment window) takes locally, unless `waits`
 * names it: the runtime's clock jumps to the timestamp instead of sleeping for hours.
 */
export const TIMESTAMP_WAIT_MS = 100;

/** A release waiting for a person — an emergency or a promotion for its approvers, or a held canary for a decision (what `Approval Requested` says). */
export interface ApprovalRequested {
  kind: ApprovalKind;
  service: string;
  version: string;
  environment: string;
  executionArn: string;
  approvers: string[];
  /** Distinct approvals it takes (2 for an emergency, 1 for a canary hold, the environment's approval.needed for a promotion). */
  needed: number;
}

/** Which request a local decision is for. */
export interface ApprovalTarget {
  service: string;
  version: string;
  environment: string;
}

export type EventLog = Parameters<NonNullable<Parameters<typeof consume>[1]>>[0];

export interface ExecutionSummary {
  executionArn: string;
  name: string;
  machine: MachineName;
  status: 'SUCCEEDED' | 'FAILED' | 'ABORTED' | 'TIMED_OUT';
  input: unknown;
  output?: unknown;
  error?: string;
  /** The failure's readable message (the Lambda runtime's JSON unwrapped). */
  cause?: string;
  startedAt: string;
  stoppedAt: string;
  history: EventLog[];
  /** What the reconciler did after the execution ended without success (ExecutionSummary of a killed one: none). */
  reconciled?: ReconcileReport;
  /** Why reconciling it failed; its running record stays, so the next start tries again. */
  reconcileError?: string;
}

export interface ExecutionHandle {
  executionArn: string;
  name: string;
  done: Promise<ExecutionSummary>;
  /** Step Functions' StopExecution: the execution ends ABORTED and is reconciled, as the execution-ended rule does in AWS. */
  abort(stop?: { error?: string; cause?: string }): void;
  /** Emulates kill -9 of the process running it: it stops, nothing reconciles it, and its running record stays for the next start to find. */
  kill(): void;
}

/** An event on the local bus in EventBridge's envelope, as a rule's target receives it. */
export interface BusEvent {
  version: '0';
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: unknown;
  [field: string]: unknown;
}

export interface PutEvent {
  Source: string;
  DetailType: string;
  Detail: unknown;
  EventBusName?: string;
}

async function consume(logs: AsyncGenerator<unknown>, onEvent: (e: { type: string; timestamp: number; [k: string]: unknown }) => void) {
  for await (const e of logs) onEvent(e as { type: string; timestamp: number });
}

function readableCause(cause: unknown): string | undefined {
  if (cause === undefined || cause === null) return undefined;
  const text = typeof cause === 'string' ? cause : JSON.stringify(cause);
  try {
    const parsed = JSON.parse(text) as { errorMessage?: string };
    if (typeof parsed.errorMessage === 'string') return parsed.errorMessage;
  } catch {
    // plain text
  }
  return text;
}

/**
 * The embedded runtime: the real ASL in an ASL interpreter, the real step handlers in-process,
 * the S3 and DynamoDB APIs on loopback, and a local fleet as the deploy target.
 */
export class LocalRuntime {
  /** `signingKey`: the data dir's public key (tagflow local keygen) verifies signed builds; `verificationSigner` signs verification summaries. */
  readonly deps: Deps & SigningKeyDeps & { verificationSigner: MessageSigner };
  readonly fleet: LocalFleet;
  private readonly fleetMetrics: FleetMetrics;
  /** What the runtime found wrong at start but could work around (a damaged fleet.json): the CLI shows them. */
  readonly warnings: string[] = [];
  /** Events the pipeline put on its bus, in order. */
  readonly emitted: (PutEvent & { time: string })[] = [];
  private readonly machines = new Map<MachineName, StateMachine>();
  private readonly overrides = new Map<MachineName, Record<string, (input: never) => Promise<unknown>>>();
  private readonly running = new Set<Promise<unknown>>();
  private readonly byArn = new Map<string, ExecutionHandle>();
  /** The `.sync` children a parent execution waits for: stopping the parent stops them, as in Step Functions. */
  private readonly childrenOf = new Map<string, Set<ExecutionHandle>>();
  private readonly timestampWaits = new Map<MachineName, Map<string, string>>();
  private readonly taskTokens = new LocalTaskTokens();
  private readonly approvalListeners = new Set<(request: ApprovalRequested) => void>();
  private readonly busListeners = new Set<(event: BusEvent) => void>();
  /** Which process runs which execution (local/runtime/running.ts). */
  private readonly registry: RunningRegistry;
  /** States that wait for a task token: a stopped execution's pending callback never settles, so it is not waited for. */
  private readonly callbackStates = new Map<MachineName, Set<string>>();
  /** What the start found: executions whose process was gone, reconciled. */
  readonly recovered: ReconcileReport[] = [];
  /** The runtime's clock: the given one plus the simulated time of compressed timestamp waits. */
  readonly clock: SimulatedClock;

  private constructor(
    readonly options: RuntimeOptions,
    readonly aws: LocalAwsServices,
  ) {
    const store = new S3Store(aws.s3);
    this.clock = new SimulatedClock(options.clock ?? systemClock);
    this.fleet = new LocalFleet(options.dataDir, store, Math.random, this.clock);
    this.fleetMetrics = new FleetMetrics(this.fleet);
    this.registry = new RunningRegistry(options.dataDir);
    this.deps = {
      config: async () => options.config,
      ledger: new DynamoDbLedger(aws.dynamodb, LOCAL_TABLE),
      store,
      locations: LOCAL_LOCATIONS,
      targets: (target: TargetConfig) => {
        if (target.type === 'local') return this.fleet;
        throw new Error(`deploy target "${target.type}" deploys to AWS; the local runtime runs targets of type "local"`);
      },
      metrics: (target: TargetConfig) => {
        if (target.type === 'local') return this.fleetMetrics;
        throw new Error(`metrics for deploy target "${target.type}" come from CloudWatch in AWS; the local runtime judges targets of type "local"`);
      },
      http: fetchProbe,
      clock: this.clock,
      log: options.log ?? silentLogger,
      lockTtlMs: options.lockTtlMs ?? 15 * 60_000,
      approvals: new DynamoDbApprovals(aws.dynamodb, LOCAL_TABLE),
      taskTokens: this.taskTokens,
      events: { put: async (entries) => void (await this.putEvents(entries.map((e) => ({ ...e, EventBusName: LOCAL_BUS })))) },
      approvalChannel: { kind: 'local' },
      executions: { status: async (arn) => this.executionStatus(arn) },
      invoker: localInvoker(options.dataDir, options.functions),
      signingKey: localPublicKey(options.dataDir),
      verificationSigner: localVerificationSigner(options.dataDir),
    };
  }

  static async start(options: RuntimeOptions): Promise<LocalRuntime> {
    mkdirSync(join(options.dataDir, 'executions'), { recursive: true });
    const aws = await startAwsServices(options.dataDir, Object.values(LOCAL_LOCATIONS), LOCAL_TABLE, { share: options.share ?? 'refuse' });
    const runtime = new LocalRuntime(options, aws);
    try {
      try {
        // Attached to another process's APIs: its fleet serves; this one only reads.
        if (aws.attachedTo === undefined) await runtime.fleet.restore();
      } catch (err) {
        // A damaged fleet.json must not keep a person from reading the ledger or rolling back.
        if (!(err instanceof FleetStateDamaged)) throw err;
        runtime.warnings.push(err.message);
      }
      await runtime.loadMachines();
      // Executions a killed process left: reconcile them before anything else runs.
      if (aws.attachedTo === undefined) runtime.recovered.push(...(await runtime.reconcileOrphans()));
    } catch (err) {
      await runtime.close();
      throw err;
    }
    return runtime;
  }

  private async loadMachines(): Promise<void> {
    const lambdas = new Map<string, (input: unknown) => Promise<unknown>>();
    for (const step of STEP_NAMES) {
      lambdas.set(localFunctionArn(step), asLambda(`tagflow-${step}`, stepHandler(step, STEP_RUNS[step], () => this.deps) as never));
    }
    for (const machine of MACHINE_NAMES) {
      if (!existsSync(aslPath(machine))) continue;
      const definition = JSON.parse(substitute(readAsl(machine), localSubstitutions()));
      this.machines.set(machine, new StateMachine(definition));
      const handlers: Record<string, (input: never) => Promise<unknown>> = {};
      for (const { name, resource } of taskStates(definition)) {
        const lambda = lambdas.get(resource);
        if (lambda) handlers[name] = lambda as (input: never) => Promise<unknown>;
        else if (resource === 'arn:aws:states:::events:putEvents') handlers[name] = ((input: { Entries: PutEvent[] }) => this.putEvents(input.Entries)) as never;
        else if (resource === 'arn:aws:states:::aws-sdk:sfn:stopExecution') handlers[name] = ((input: { ExecutionArn: string; Error?: string; Cause?: string }) => this.stopExecution(input.ExecutionArn, { ...(input.Error ? { error: input.Error } : {}), ...(input.Cause ? { cause: input.Cause } : {}) })) as never;
        else if (resource === 'arn:aws:states:::states:startExecution.sync:2') handlers[name] = ((input: { StateMachineArn: string; Input: unknown; Name?: string }) => this.startExecutionSync(input)) as never;
        else if (resource === 'arn:aws:states:::lambda:invoke.waitForTaskToken') {
          handlers[name] = ((input: { FunctionName: string; Payload: Record<string, unknown> }) => this.invokeAndWaitForToken(lambdas, input)) as never;
          this.callbackStates.set(machine, new Set([...(this.callbackStates.get(machine) ?? []), name]));
        }
        else throw new Error(`${machine}.asl.json state "${name}" uses ${resource}, which the local runtime cannot run`);
      }
      this.overrides.set(machine, handlers);
      this.timestampWaits.set(machine, timestampWaits(definition));
    }
  }

  /**
   * `lambda:invoke.waitForTaskToken`: the interpreter has no task tokens, so this issues one,
   * invokes the function with it in place of `$$.Task.Token`, and waits for `succeed`/`fail`
   * on it (the state's TimeoutSecondsPath still bounds the wait).
   */
  private async invokeAndWaitForToken(lambdas: Map<string, (input: unknown) => Promise<unknown>>, input: { FunctionName: string; Payload: Record<string, unknown> }): Promise<unknown> {
    const lambda = lambdas.get(input.FunctionName);
    if (!lambda) throw new Error(`waitForTaskToken names ${input.FunctionName}, which is no local function`);
    const request = (input.Payload.request ?? {}) as { kind?: ApprovalKind; executionId?: string; release?: { service: string; version: string }; environment?: string };
    const executionArn = String(request.executionId ?? '');
    const { token, result } = this.taskTokens.issue(executionArn);
    await lambda({ ...input.Payload, taskToken: token });
    const { release, environment } = request;
    if (release && typeof environment === 'string') {
      const kind = kindOf(request);
      const { allowed: approvers, needed } = approversOf(kind, await this.deps.config(), { service: release.service, environment });
      for (const listener of this.approvalListeners) listener({ kind, service: release.service, version: release.version, environment, executionArn, approvers, needed });
    }
    return result;
  }

  /**
   * `states:startExecution.sync:2`: starts the named local machine and waits for it, answering
   * as Step Functions does: its DescribeExecution with the output as JSON, or `States.TaskFailed`
   * whose cause is that DescribeExecution (the child's Error and Cause in it).
   */
  private async startExecutionSync(input: { StateMachineArn: string; Input: unknown; Name?: string }): Promise<unknown> {
    const machine = MACHINE_NAMES.find((m) => localMachineArn(m) === input.StateMachineArn);
    if (!machine) throw Object.assign(new Error(`State Machine Does Not Exist: '${input.StateMachineArn}'`), { name: 'Sfn.StateMachineDoesNotExistException' });
    const child = this.startExecution(machine, input.Input, input.Name ? { name: input.Name } : {});
    // The interpreter does not say which execution runs this task; a train's leg names its train execution.
    const parent = (input.Input as { train?: { execution?: unknown } } | null)?.train?.execution;
    if (typeof parent === 'string') {
      const siblings = this.childrenOf.get(parent) ?? new Set<ExecutionHandle>();
      this.childrenOf.set(parent, siblings.add(child));
      void child.done.finally(() => siblings.delete(child));
    }
    const summary = await child.done;
    const described = { ExecutionArn: summary.executionArn, StateMachineArn: input.StateMachineArn, Name: summary.name, Status: summary.status, StartDate: summary.startedAt, StopDate: summary.stoppedAt, Input: summary.input };
    if (summary.status === 'SUCCEEDED') return { ...described, Output: summary.output ?? null };
    const err = new Error(JSON.stringify({ ...described, ...(summary.error ? { Error: summary.error } : {}), ...(summary.cause ? { Cause: summary.cause } : {}) }));
    err.name = 'States.TaskFailed';
    throw err;
  }

  /** Calls `listener` each time a release starts waiting for a person (an emergency's approvers, a held canary's decision); returns the unsubscribe. */
  onApprovalRequested(listener: (request: ApprovalRequested) => void): () => void {
    this.approvalListeners.add(listener);
    return () => this.approvalListeners.delete(listener);
  }

  /**
   * An approver's decision, locally: the same core the approval function URL runs in AWS, with
   * the approver named here. It decides whichever request of that release and environment is
   * pending: for a held canary, approve promotes and reject rolls back.
   */
  approve(target: ApprovalTarget, approver: string): Promise<ApprovalOutcome> {
    return decideApproval({ ...target, approver, decision: 'approve' }, this.deps);
  }

  reject(target: ApprovalTarget, approver: string, comment?: string): Promise<ApprovalOutcome> {
    return decideApproval({ ...target, approver, decision: 'reject', ...(comment ? { comment } : {}) }, this.deps);
  }

  /** Calls `listener` with each event put on the local bus, as EventBridge hands it to a rule's target; returns the unsubscribe. */
  onBusEvent(listener: (event: BusEvent) => void): () => void {
    this.busListeners.add(listener);
    return () => this.busListeners.delete(listener);
  }

  /** The local event bus: records what the pipeline emits (events.jsonl in the data folder). */
  async putEvents(entries: PutEvent[]): Promise<{ FailedEntryCount: number; Entries: { EventId: string }[] }> {
    const time = this.deps.clock.now().toISOString();
    const ids = entries.map(() => randomUUID());
    entries.forEach((entry, i) => {
      const event = { ...entry, time };
      this.emitted.push(event);
      appendFileSync(join(this.options.dataDir, 'events.jsonl'), `${JSON.stringify(event)}\n`);
      if (this.busListeners.size === 0) return;
      const detail = typeof entry.Detail === 'string' ? (JSON.parse(entry.Detail) as unknown) : entry.Detail;
      const envelope: BusEvent = { version: '0', id: ids[i]!, 'detail-type': entry.DetailType, source: entry.Source, account: LOCAL_ACCOUNT, time, region: LOCAL_REGION, resources: [], detail };
      for (const listener of this.busListeners) listener(envelope);
    });
    return { FailedEntryCount: 0, Entries: ids.map((EventId) => ({ EventId })) };
  }

  hasMachine(machine: MachineName): boolean {
    return this.machines.has(machine);
  }

  startExecution(machine: MachineName, input: unknown, opts: { name?: string; onEvent?: (e: EventLog) => void } = {}): ExecutionHandle {
    if (this.aws.attachedTo !== undefined) throw new DataDirBusy(`the local data folder ${this.options.dataDir} is in use by tagflow process ${this.aws.attachedTo}: this process may only read it; wait for that one to end`);
    const sm = this.machines.get(machine);
    if (!sm) throw new Error(`no state machine "${machine}" (state-machines/${machine}.asl.json) in this checkout`);
    const name = opts.name ?? `${new Date().toISOString().replace(/[:.]/g, '-')}-${randomUUID().slice(0, 8)}`;
    const executionArn = `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:execution:tagflow-${machine}:${name}`;
    const startedAt = new Date().toISOString();
    const untilWaits = this.timestampWaits.get(machine) ?? new Map<string, string>();
    const waits = { ...Object.fromEntries([...untilWaits.keys()].map((state) => [state, TIMESTAMP_WAIT_MS])), ...this.options.waits };
    // Steps still running when the execution stops finish (as a Lambda invocation does after
    // StopExecution); the reconciler runs after them, so what they wrote is what it cleans up.
    const inflight = new Set<Promise<unknown>>();
    const callbacks = this.callbackStates.get(machine) ?? new Set<string>();
    const tracked = Object.fromEntries(
      Object.entries(this.overrides.get(machine) ?? {}).map(([state, fn]) => [
        state,
        (input: never) => {
          const p = fn(input);
          if (!callbacks.has(state)) {
            inflight.add(p);
            p.then(() => inflight.delete(p), () => inflight.delete(p));
          }
          return p;
        },
      ]),
    );
    let stop: { error?: string; cause?: string } | undefined;
    let killed = false;
    this.registry.add({ executionArn, machine, name, pid: process.pid, startedAt });
    const runOptions: RunOptions = {
      overrides: {
        taskResourceLocalHandlers: tracked as never,
        ...(this.options.retryIntervals ? { retryIntervalOverrides: this.options.retryIntervals } : {}),
        waitTimeOverrides: waits,
      },
      // Task.Token: a placeholder that `$$.Task.Token` resolves to; invokeAndWaitForToken swaps in a real one.
      context: { Execution: { Id: executionArn, Name: name, Input: input as never, StartTime: startedAt, RoleArn: `arn:aws:iam::${LOCAL_ACCOUNT}:role/tagflow-local` }, StateMachine: { Id: localMachineArn(machine), Name: `tagflow-${machine}` }, Task: { Token: 'issued-by-the-local-runtime' } } as never,
    };
    const execution = sm.run(input as never, runOptions);
    const history: EventLog[] = [];
    const logs = consume(execution.eventLogs as AsyncGenerator<unknown>, (e) => {
      history.push(e);
      // A compressed wait until a timestamp: simulated time moves there (events arrive as
      // microtasks, before the compressed wait's timer can end).
      const untilPath = e.type === 'StateEntered' ? untilWaits.get((e as { state?: { name: string } }).state?.name ?? '') : undefined;
      if (untilPath) {
        const until = evaluatePath(untilPath, (e as { state?: { input?: unknown } }).state?.input);
        if (typeof until === 'string' && !Number.isNaN(Date.parse(until))) this.clock.advanceTo(new Date(until));
      }
      opts.onEvent?.(e);
    });
    const done = (async (): Promise<ExecutionSummary> => {
      let summary: ExecutionSummary;
      try {
        const output = await execution.result;
        summary = { executionArn, name, machine, status: 'SUCCEEDED', input, output, startedAt, stoppedAt: new Date().toISOString(), history };
      } catch (err) {
        const cause = (err as { cause?: { name?: string; message?: string } }).cause ?? (err as { name?: string; message?: string });
        const aborted = (err as Error).name === 'ExecutionAbortedError';
        const timedOut = (err as Error).name === 'ExecutionTimeoutError';
        const why = aborted ? { error: stop?.error ?? 'Aborted', ...(stop?.cause ? { cause: stop.cause } : {}) } : timedOut ? { error: 'States.Timeout', cause: 'the execution reached the machine\'s TimeoutSeconds' } : { error: cause?.name ?? 'Error', ...(cause?.message !== undefined ? { cause: readableCause(cause.message)! } : {}) };
        summary = {
          executionArn, name, machine, status: aborted ? 'ABORTED' : timedOut ? 'TIMED_OUT' : 'FAILED', input,
          ...why,
          startedAt, stoppedAt: new Date().toISOString(), history,
        };
      }
      await logs.catch(() => undefined);
      if (summary.status !== 'SUCCEEDED') await Promise.allSettled([...inflight]);
      if (killed) return summary; // the process "died": no summary file, no reconcile; its running record stays
      let reconcileFailed = false;
      if (summary.status !== 'SUCCEEDED') {
        try {
          summary.reconciled = await this.reconcileEnded({ executionArn, machine, status: summary.status, stoppedAt: summary.stoppedAt, ...(summary.error ? { error: summary.error } : {}), ...(summary.cause ? { cause: summary.cause } : {}) });
        } catch (err) {
          // Keep the running record: the next start reconciles it again (the core is idempotent).
          reconcileFailed = true;
          summary.reconcileError = (err as Error).message;
        }
      }
      writeFileSync(join(this.options.dataDir, 'executions', `${machine}-${name}.json`), JSON.stringify(summary, null, 2));
      if (!reconcileFailed) this.registry.remove(name);
      return summary;
    })();
    const handle: ExecutionHandle = {
      executionArn,
      name,
      done,
      abort: (why) => {
        stop ??= why ?? {};
        execution.abort();
        for (const child of this.childrenOf.get(executionArn) ?? []) child.abort({ error: 'States.Aborted', cause: `its parent execution ${executionArn} was stopped` });
      },
      kill: () => {
        killed = true;
        execution.abort();
      },
    };
    this.running.add(done);
    this.byArn.set(executionArn, handle);
    void done.finally(() => {
      this.running.delete(done);
      this.byArn.delete(executionArn);
      this.childrenOf.delete(executionArn);
      this.taskTokens.forget(executionArn);
    });
    return handle;
  }

  /** Step Functions' StopExecution, for the local executions of this runtime. */
  async stopExecution(executionArn: string, why?: { error?: string; cause?: string }): Promise<{ StopDate: string }> {
    const handle = this.byArn.get(executionArn);
    if (!handle) {
      const err = new Error(`Execution Does Not Exist: '${executionArn}'`);
      err.name = 'Sfn.ExecutionDoesNotExistException';
      throw err;
    }
    handle.abort(why);
    return { StopDate: new Date().toISOString() };
  }

  /** Executions of this runtime's process still running. */
  runningExecutions(): ExecutionHandle[] {
    return [...this.byArn.values()];
  }

  /**
   * What Step Functions' DescribeExecution would say: running here, or in another live
   * process (its running record); ended (its summary); a running record whose process is gone
   * is ABORTED. Undefined for an execution this data folder never saw.
   */
  executionStatus(executionArn: string): ExecutionStatus | undefined {
    if (this.byArn.has(executionArn)) return 'RUNNING';
    const entry = this.registry.find(executionArn);
    if (entry) return entry.pid !== process.pid && (this.options.isProcessAlive ?? processAlive)(entry.pid) ? 'RUNNING' : 'ABORTED';
    const name = executionArn.split(':').pop() ?? '';
    for (const machine of MACHINE_NAMES) {
      const file = join(this.options.dataDir, 'executions', `${machine}-${name}.json`);
      if (existsSync(file)) return (JSON.parse(readFileSync(file, 'utf8')) as ExecutionSummary).status;
    }
    return undefined;
  }

  /**
   * What the execution-ended rule does in AWS: the same \`Step Functions Execution Status
   * Change\` event, matched against the same pattern, parsed by the same parser, and handed to
   * the same reconcile core.
   */
  async reconcileEnded(x: { executionArn: string; machine: MachineName; status: ReconciledStatus; stoppedAt: string; error?: string; cause?: string }): Promise<ReconcileReport | undefined> {
    const event = {
      version: '0',
      id: randomUUID(),
      'detail-type': 'Step Functions Execution Status Change',
      source: 'aws.states',
      account: LOCAL_ACCOUNT,
      region: LOCAL_REGION,
      time: x.stoppedAt,
      resources: [x.executionArn],
      detail: { executionArn: x.executionArn, stateMachineArn: localMachineArn(x.machine), name: x.executionArn.split(':').pop(), status: x.status, stopDate: Date.parse(x.stoppedAt), error: x.error ?? null, cause: x.cause ?? null },
    };
    if (!matchesPattern(executionEndedRule([localMachineArn('release'), localMachineArn('rollback')]).pattern, event)) return undefined;
    return reconcile(parseExecutionStatusChange(event, this.clock.now()), this.deps);
  }

  /** Running records whose process is gone (or this process, no longer running them): reconciled as ABORTED. */
  async reconcileOrphans(): Promise<ReconcileReport[]> {
    const alive = this.options.isProcessAlive ?? processAlive;
    const reports: ReconcileReport[] = [];
    for (const entry of this.registry.entries()) {
      if (this.byArn.has(entry.executionArn)) continue;
      if (entry.pid !== process.pid && alive(entry.pid)) continue;
      const report = await this.reconcileEnded({
        executionArn: entry.executionArn,
        machine: entry.machine,
        status: 'ABORTED',
        stoppedAt: this.clock.now().toISOString(),
        error: 'ProcessGone',
        cause: `the tagflow process ${entry.pid} that ran it since ${entry.startedAt} is gone (killed, or its machine stopped)`,
      });
      if (report) reports.push(report);
      this.registry.remove(entry.name);
    }
    return reports;
  }

  /**
   * What EventBridge does with an event: fills in the envelope, matches it against the same
   * rules the stack deploys, and starts the machine of each matching rule with the event as input.
   */
  sendEvent(raw: unknown, opts: { onEvent?: (e: EventLog) => void } = {}): { event: Record<string, unknown>; started: { rule: string; execution: ExecutionHandle }[]; unmatched?: string } {
    const problems = envelopeProblems(raw);
    if (problems.length) throw new Error(`not an EventBridge event: ${problems.join('; ')}`);
    const event = {
      version: '0',
      id: randomUUID(),
      account: LOCAL_ACCOUNT,
      region: LOCAL_REGION,
      time: this.deps.clock.now().toISOString(),
      resources: [],
      ...(raw as Record<string, unknown>),
    };
    // The rules the stack deploys for this config (lambdas/lib/event-rules.ts).
    const rules: readonly EventRule[] = eventRules(this.options.config);
    const matches = rulesMatching(event, rules);
    if (matches.length === 0) return { event, started: [], unmatched: explainNoMatch(event, rules) };
    const started = matches.map(({ rule }) => {
      if (!this.machines.has(rule.machine)) throw new Error(`rule ${rule.name} matched, but its ${rule.machine} state machine is not in this checkout`);
      return { rule: rule.name, execution: this.startExecution(rule.machine, event, opts) };
    });
    return { event, started };
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.running]);
    await this.fleet.close();
    await this.aws.close();
  }
}

function envelopeProblems(raw: unknown): string[] {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return ['expected a JSON object with "source", "detail-type" and "detail"'];
  const e = raw as Record<string, unknown>;
  const problems: string[] = [];
  if (typeof e.source !== 'string' || !e.source) problems.push('"source" must be a non-empty string, e.g. "tagflow"');
  if (typeof e['detail-type'] !== 'string' || !e['detail-type']) problems.push('"detail-type" must be a non-empty string, e.g. "Tag Pushed"');
  if (e.detail === null || typeof e.detail !== 'object' || Array.isArray(e.detail)) problems.push('"detail" must be a JSON object');
  return problems;
}
