import type { CustomMetric, PipelineConfig, TargetConfig } from './config.js';
import type { ApprovalKind } from './approval-kinds.js';
import type { ReleaseInitiator } from './approver-principal.js';
import type {
  AttemptRecord,
  LatencyThresholds,
  Decision,
  DriftMark,
  EnvironmentState,
  OutcomeRecord,
  ReleaseRecord,
  ResolvedArtifact,
} from './types.js';

/** Ports: what the core needs from the world. Adapters implement them for AWS and locally. */

export interface ObjectLocation {
  bucket: string;
  key: string;
}

/** What the steps that only read artifacts, manifests and test reports need. */
export interface ObjectReader {
  /** The whole object, or undefined when it does not exist. */
  get(loc: ObjectLocation): Promise<Uint8Array | undefined>;
  /** The object as a stream of chunks (for hashing large files), or undefined. */
  stream(loc: ObjectLocation): Promise<AsyncIterable<Uint8Array> | undefined>;
}

export interface ObjectStore extends ObjectReader {
  put(loc: ObjectLocation, body: Uint8Array | string, contentType?: string): Promise<void>;
  /** Server-side copy: the bytes never pass through the caller. */
  copy(from: ObjectLocation, to: ObjectLocation): Promise<void>;
}

export type ClaimResult = { claimed: true } | { claimed: false; existing: ReleaseRecord };

export type LockResult =
  | { acquired: true; state: EnvironmentState }
  | { acquired: false; holder: string; expiresAt: number };

export interface Ledger {
  /** Creates the release record unless one exists for service+version (conditional write). */
  claimRelease(record: ReleaseRecord): Promise<ClaimResult>;
  getRelease(service: string, version: string): Promise<ReleaseRecord | undefined>;
  /** Adds the image digest to a release claimed by another trigger, if it has none yet. */
  attachImageDigest(service: string, version: string, imageDigest: string): Promise<boolean>;
  recordDecision(decision: Decision): Promise<void>;
  decisions(service: string, version: string): Promise<Decision[]>;
  /**
   * Writes the outcome once per attempt; a second write for the same attempt, or one for an
   * attempt that is no longer the release's current one, is ignored. True when it wrote.
   */
  recordOutcome(outcome: OutcomeRecord): Promise<boolean>;
  /**
   * Makes `record` the release's next attempt if `fromExecution` still runs its current one
   * (conditional write); the earlier attempt, with its outcome, moves into `attempts`.
   */
  retryRelease(record: ReleaseRecord, fromExecution: string, earlier: AttemptRecord): Promise<boolean>;
  getOutcome(service: string, version: string): Promise<OutcomeRecord | undefined>;
  /**
   * The outcome of a release execution that a rollback stopped, written by the rollback: once,
   * like `recordOutcome`, except that it replaces an `aborted` outcome of that same execution
   * (the reconciler's, which knows only that it was stopped). Ignored when the release record
   * names another execution. True when it wrote.
   */
  recordStoppedOutcome(outcome: OutcomeRecord): Promise<boolean>;
  /**
   * Takes the environment lock for `holder` unless another holder's lock is unexpired; a
   * rollback may take it over from `takeOverFrom`, the release execution it has just stopped.
   */
  acquireLock(service: string, environment: string, holder: string, nowMs: number, ttlMs: number, takeOverFrom?: string): Promise<LockResult>;
  /** One rollback per environment and bad version, however often an alarm flaps. */
  claimRollback(service: string, environment: string, fromVersion: string, executionId: string, nowIso: string): Promise<{ claimed: true } | { claimed: false; by: string; at: string }>;
  /** Drops the lock if `holder` still has it; a no-op otherwise. */
  releaseLock(service: string, environment: string, holder: string): Promise<void>;
  getEnvironment(service: string, environment: string): Promise<EnvironmentState | undefined>;
  /**
   * Writes the environment state if `holder` still holds the lock and nobody wrote since
   * `state.revision` (optimistic concurrency); throws `LockLost` otherwise.
   */
  putEnvironment(state: EnvironmentState, holder: string): Promise<EnvironmentState>;
  environments(service: string): Promise<EnvironmentState[]>;
  /**
   * Sets (or, with `null`, clears) the environment's drift mark without the lock: a conditional
   * write that succeeds only if nobody wrote since `revision` and no unexpired lock is held
   * (a release's own write wins; the next check sees its state). False when the condition failed.
   */
  markDrift(service: string, environment: string, mark: DriftMark | null, revision: number, nowMs: number): Promise<boolean>;
  releases(service: string): Promise<{ release: ReleaseRecord; outcome?: OutcomeRecord }[]>;
  services(): Promise<string[]>;
  /**
   * Declares a freeze (`tagflow freeze`): a conditional write, refused while a freeze of that
   * name is in force (not ended and not past its `until`); an ended one's name may be reused.
   */
  createFreeze(freeze: LedgerFreeze, nowIso: string): Promise<{ created: true } | { created: false; existing: LedgerFreeze }>;
  /** Ends a freeze in force (`tagflow unfreeze`), recording who and when; undefined when no such freeze is in force. */
  endFreeze(name: string, unfrozenBy: string, nowIso: string): Promise<LedgerFreeze | undefined>;
  /** Every freeze the ledger holds, ended ones included (the policy step keeps those in force). */
  freezes(): Promise<LedgerFreeze[]>;
}

/**
 * A freeze declared at run time (`tagflow freeze`), without a deploy: the policy step treats it
 * exactly as a `policy.freezes[]` entry of the config, from `from` until `until` or until it is
 * unfrozen, whichever comes first.
 */
export interface LedgerFreeze {
  name: string;
  environments: string[];
  /** Absent: every service. */
  service?: string;
  reason: string;
  /** ISO instants. */
  from: string;
  until: string;
  /** Who froze it: locally the OS user (user@host); in AWS the signer, as for approvals (with --stack, later). */
  frozenBy: string;
  frozenAt: string;
  unfrozenBy?: string;
  unfrozenAt?: string;
}

export interface DeployRequest {
  service: string;
  environment: string;
  version: string;
  target: TargetConfig;
  /** Where the promoted bytes live for this environment. */
  location: { bucket: string; prefix: string };
  artifact: ResolvedArtifact;
  /**
   * The handle `stage` returned for this version (pre-traffic checks passed on it): the target
   * moves traffic to that staged version instead of installing the build again.
   */
  staged?: string;
}

/** A version the target served before, named by the handle it returned then (`DeployResult.ref`). */
export type ReuseRequest = Pick<DeployRequest, 'service' | 'environment' | 'version' | 'target'> & { ref: string };

export interface DeployResult {
  /** Target-specific handle of what now serves traffic (e.g. Lambda version "17"). */
  ref: string;
  /** What served traffic before, as the target reports it. */
  previousVersion?: string;
}

export interface DeployTarget {
  /** All traffic to `req.version` (clears any canary split). */
  deploy(req: DeployRequest): Promise<DeployResult>;
  /**
   * All traffic back to a version this target served before, from its handle alone (clears any
   * canary split): no build to read, so such a rollback needs neither the promoted copy nor
   * the bucket it is in. Undefined when the handle is not enough; the caller then deploys.
   */
  reuse?(req: ReuseRequest): Promise<DeployResult | undefined>;
  /**
   * Deploys `req.version` beside the live (baseline) version and sends it `weightPercent` of
   * the traffic. `ref` in the result is the canary's handle; `baselineRef` the live one's.
   */
  startCanary?(req: DeployRequest, weightPercent: number): Promise<DeployResult & { baselineRef?: string }>;
  /** Moves the canary's share of traffic; 100 makes the canary the live version with all traffic. */
  setCanaryWeight?(req: CanaryWeightRequest, weightPercent: number): Promise<void>;
  /**
   * Installs `req.version` where it can be called directly but takes no traffic (Lambda: a
   * published version, the alias untouched; locally: the version's own server). Pre-traffic
   * checks call it there; `deploy`/`startCanary` with `staged` then move traffic to it.
   * A TagflowError keeps its meaning (DeployFailed, ArtifactIntegrityError, …); any other
   * error means the version itself could not start (e.g. its entry module threw on load).
   */
  stage?(req: DeployRequest): Promise<StagedVersion>;
  /** Drops a staged version that will take no traffic (its checks failed); a no-op where nothing runs. */
  discard?(req: ReuseRequest): Promise<void>;
  /** Base URL smoke checks use, when the target serves HTTP itself (the local fleet). */
  endpoint?(service: string, environment: string): Promise<string | undefined>;
}

/** A version installed beside the live one, taking no traffic, and how checks reach it. */
export interface StagedVersion {
  /** Its handle (a Lambda version number; locally the version), as `DeployResult.ref`. */
  ref: string;
  /** Base URL that reaches this version alone, for http checks (the local fleet). */
  endpoint?: string;
  /** Qualifier that invokes this version alone, for invoke checks (a Lambda version number). */
  qualifier?: string;
}

/** The two arms of a canary in one environment: the new version and the live (baseline) one. */
export interface CanaryArms {
  service: string;
  environment: string;
  target: TargetConfig;
  canary: { version: string; ref: string };
  baseline: { version: string; ref?: string };
}

export type CanaryWeightRequest = CanaryArms;

/** Cumulative per-arm counts since a step began, as the judge reads them. */
export interface ArmMetrics {
  requests: number;
  errors: number;
  /** Requests slower than the tail threshold. */
  slow: number;
  /** Requests slower than the shift threshold. */
  slowShift: number;
  /** Events of each custom metric the query named, by name. */
  custom?: Record<string, number>;
}

export interface MetricsQuery extends CanaryArms {
  /** ISO times: the step's start and now. */
  since: string;
  until: string;
  /** Absent until the canary's thresholds are fixed: then slow requests are not counted (0). */
  thresholds?: Pick<LatencyThresholds, 'tailMs' | 'shiftMs'>;
  /** The service's own counts to read beside requests, errors and latency. */
  custom?: readonly CustomMetric[];
}

/** The baseline's latency over a window, to fix the thresholds from. */
export interface BaselineLatency {
  requests: number;
  p90Ms: number;
  p99Ms: number;
}

/** Both arms' counts; `unpublished` names the custom metrics with no datapoint at all in either arm. */
export interface ArmCountsResult {
  canary: ArmMetrics;
  baseline: ArmMetrics;
  unpublished?: string[];
}

export interface MetricsSource {
  armCounts(q: MetricsQuery): Promise<ArmCountsResult>;
  /** The baseline version's request count and latency percentiles between `since` and `until`. */
  baselineLatency(q: CanaryArms & { since: string; until: string }): Promise<BaselineLatency>;
  /**
   * The live version's traffic between `since` and `until` (`tagflow plan`, the default bake):
   * its requests and errors, and the minutes they came in, counted from the minute of its first
   * datapoint to `until`. Minutes without a datapoint after that one count as minutes without
   * requests (CloudWatch publishes none for them), so a quiet night lowers the rate as it
   * should; before the first datapoint the version is taken not to have been live yet (a
   * version deployed mid-window is not charged the days before it). No datapoint at all: 0
   * minutes. Both real sources answer it (`PeriodMetrics`: CloudWatch, the local fleet);
   * optional so that a test's scripted source need not.
   */
  liveTraffic?(q: LiveTrafficQuery): Promise<LiveTraffic>;
}

export interface LiveTrafficQuery {
  service: string;
  environment: string;
  target: TargetConfig;
  /** The version serving traffic, and its target handle (a Lambda version number; needed in AWS). */
  version: { version: string; ref?: string };
  /** ISO times. */
  since: string;
  until: string;
}

export interface LiveTraffic {
  requests: number;
  errors: number;
  minutes: number;
}

export interface HttpResponse {
  status: number;
  body: string;
  latencyMs: number;
}

export interface HttpProbe {
  request(req: { method: string; url: string; headers: Record<string, string>; body?: string; timeoutMs: number }): Promise<HttpResponse>;
}

export interface FunctionInvoker {
  invoke(req: { functionName: string; qualifier: string; payload: unknown; timeoutMs: number }): Promise<{ payload: unknown; functionError?: string; latencyMs: number }>;
}

/**
 * A CloudWatch alarm's tags (`tagflow:service`, `tagflow:environment` route it), for an alarm
 * event that carries none: CloudWatch puts `detail.alarmTags` in the event only when the alarm
 * has AlarmTagsPropagation enabled. `undefined`: no such alarm (any more).
 */
export interface AlarmTags {
  tagsOf(alarmArn: string): Promise<Record<string, string> | undefined>;
}

/**
 * One approval request: a release waiting in one environment for a person — an emergency
 * release for two approvers, or a held canary for one decision (approval-kinds.ts).
 */
export interface ApprovalRecord {
  service: string;
  version: string;
  environment: string;
  /** Absent on records written before holds existed: an emergency. */
  kind?: ApprovalKind;
  releaseId: string;
  executionId: string;
  /** The waiting Task's token (Step Functions' waitForTaskToken); the decision is sent to it. */
  taskToken: string;
  /** Why a person must decide: the emergency's reason as the release manager gave it, or why the canary is held. */
  reason: string;
  /** What the policy said was closed (emergencies). */
  closed?: string;
  /** A held canary: its weight and step, and the judge's last evidence. */
  hold?: { weight: number; step: number; evidence: unknown };
  requestedAt: string;
  expiresAt: string;
  status: 'pending' | 'approved' | 'rejected' | 'expired';
  /** Every approval, in order; a repeated approver appears once. */
  approvals: { approver: string; at: string }[];
  rejectedBy?: { approver: string; at: string; comment?: string };
  decidedAt?: string;
  /** Who caused the release, where the pipeline knows (approver-principal.ts): they may not approve their own emergency. */
  initiator?: ReleaseInitiator;
}

/** A request is one per release, environment and kind (no kind: an emergency). */
export type ApprovalKey = Pick<ApprovalRecord, 'service' | 'version' | 'environment'> & { kind?: ApprovalKind | undefined };

/** The approval requests, in the ledger table. */
export interface ApprovalStore {
  /**
   * Stores a request (pending). A request of the same execution replaces the token; with
   * `keepApprovals` the approvals given so far stay (a retried emergency request), without
   * it the request starts over (a canary held again at a later step).
   */
  request(r: Omit<ApprovalRecord, 'status' | 'approvals' | 'rejectedBy' | 'decidedAt'>, opts?: { keepApprovals: boolean }): Promise<ApprovalRecord>;
  get(key: ApprovalKey): Promise<ApprovalRecord | undefined>;
  /** Adds an approval while pending; `added` is false when this approver had approved already (or it is not pending). */
  addApproval(key: ApprovalKey, approver: string, at: string): Promise<{ added: boolean; record: ApprovalRecord | undefined }>;
  /** Moves `from` → `to` (conditional write); false when it was not in `from`. */
  transition(key: ApprovalKey, from: ApprovalRecord['status'], to: ApprovalRecord['status'], at: string, rejectedBy?: ApprovalRecord['rejectedBy']): Promise<boolean>;
}

/** Who signed a presigned `sts:GetCallerIdentity`, as STS answers it (approval-proof.ts). */
export interface CallerIdentity {
  arn: string;
  account: string;
  userId: string;
}

/** Sends an approver's presigned GetCallerIdentity to STS with the binding header; throws IdentityNotVerified when STS refuses it. */
export interface IdentityVerifier {
  callerOf(presignedUrl: string, binding: string): Promise<CallerIdentity>;
}

/** Step Functions' callback API: ends a waitForTaskToken Task. */
export interface TaskTokens {
  succeed(taskToken: string, output: unknown): Promise<void>;
  /** `error` is what the state machine's Catch matches. */
  fail(taskToken: string, error: string, cause: string): Promise<void>;
}

export interface PipelineEvent {
  Source: string;
  DetailType: string;
  Detail: unknown;
}

/** The pipeline's event bus. */
export interface EventPublisher {
  put(entries: PipelineEvent[]): Promise<void>;
}

/**
 * Webhook deliveries already turned into events (GitHub's `X-GitHub-Delivery`), in the ledger
 * table, so a replayed delivery puts nothing. A claim is `pending` until its event is on the
 * bus (`complete`); a claim whose put failed (`release`), or whose holder died (its lease ran
 * out), may be claimed again by a redelivery.
 */
export interface DeliveryStore {
  /** Conditional write: claimed unless the delivery is done, or another attempt's claim is unexpired (then `leaseUntil` says when it ends). */
  claim(d: { source: string; deliveryId: string; attempt: string; nowMs: number; leaseMs: number; summary: Record<string, string> }): Promise<{ claimed: true } | { claimed: false; status: 'done' } | { claimed: false; status: 'pending'; leaseUntil: number }>;
  /** The event is on the bus: the delivery is done for good. */
  complete(d: { source: string; deliveryId: string; attempt: string; at: string }): Promise<void>;
  /** The event could not be put: this attempt's claim ends now, so a redelivery may claim it at once. */
  release(d: { source: string; deliveryId: string; attempt: string }): Promise<void>;
}

/** Where approvers send their decision: the function URL in AWS, the runtime's `approve()` locally. */
export type ApprovalChannel = { kind: 'function-url'; url: string } | { kind: 'local' };

/** What Step Functions says of an execution (DescribeExecution's status). */
export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

/** Whether an execution (a lock's holder) still runs; `undefined` when it cannot be told. */
export interface Executions {
  status(executionArn: string): Promise<ExecutionStatus | undefined>;
}

export interface Clock {
  now(): Date;
  sleep(ms: number): Promise<void>;
}

export interface Logger {
  info(message: string, data?: Record<string, unknown>): void;
  warn(message: string, data?: Record<string, unknown>): void;
  error(message: string, data?: Record<string, unknown>): void;
}

/** Where artifacts live: CI's uploads, and each environment's promoted copy. */
export interface Locations {
  artifactsBucket: string;
  environmentsBucket: string;
}

export interface Deps {
  /** The pipeline config, validated (read once per cold start by the adapters). */
  config: () => Promise<PipelineConfig>;
  ledger: Ledger;
  store: ObjectStore;
  locations: Locations;
  /** Picks the adapter for a target config. */
  targets: (target: TargetConfig) => DeployTarget;
  /** Picks the metrics source for a target config (canary analysis). */
  metrics: (target: TargetConfig) => MetricsSource;
  http: HttpProbe;
  invoker?: FunctionInvoker;
  /** Reads an alarm's tags when its event has none (AWS); absent locally, where alarms route by the config's lists. */
  alarmTags?: AlarmTags;
  clock: Clock;
  log: Logger;
  /** How long an environment lock lives before another execution may take it. */
  lockTtlMs: number;
  approvals: ApprovalStore;
  taskTokens: TaskTokens;
  events: EventPublisher;
  approvalChannel: ApprovalChannel;
  /** Tells whether a lock's holder still runs (locally); absent in the AWS steps, where the reconciler rule frees a dead holder's locks. */
  executions?: Executions;
}

export const systemClock: Clock = {
  now: () => new Date(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};
