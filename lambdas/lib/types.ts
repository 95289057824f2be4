import type { JudgeLook } from './judge/types.js';
import type { ReleaseInitiator } from './approver-principal.js';
import type { EnvironmentConfig, ServiceConfig } from './config.js';

/** How a release was started. */
export type TriggerKind = 'manual' | 'tag-push' | 'image-push' | 'codecommit-tag' | 'github-webhook';

export interface Trigger {
  kind: TriggerKind;
  /** Free-form origin, e.g. the repository or the event id. */
  detail?: string;
}

/** A normalised release request: every trigger becomes this. */
export interface ReleaseRequest {
  service: string;
  version: string;
  commit?: string;
  imageDigest?: string;
  /** The abbreviated commit a build id names (`v1.2.3-build.456-abc1234`): the manifest's commit must start with it. */
  commitPrefix?: string;
  trigger: Trigger;
  emergency?: { reason: string };
  /** Who caused it, where the trigger says (a GitHub sender, CodeCommit's caller): they may not approve its emergency. */
  initiator?: ReleaseInitiator;
  /** Asked for explicitly: start this version again when its last attempt failed or was aborted before anything was deployed. */
  retry?: boolean;
  /** Started by a release train's execution for one environment of it (train.asl.json): a continuation of the same release. */
  train?: TrainLeg;
}

/** One environment of a train member's release: which train execution runs it. */
export interface TrainLeg {
  name: string;
  execution: string;
}

/** The trigger detail that marks a release as a train member's: a later leg of the same train execution continues it. */
export const trainTriggerDetail = (leg: TrainLeg): string => `train ${leg.name} ${leg.execution}`;

/**
 * The document the release state machine carries from the first state to the last. Every
 * Lambda step reads what it needs from here; none re-reads the config mid-release.
 */
export interface ReleaseContext {
  releaseId: string;
  executionId: string;
  release: ReleaseRequest;
  /** The service's config as it was when the release started (also kept in the ledger). */
  service: ServiceConfig;
  /** The environments this release goes through, in order. */
  plan: EnvironmentConfig[];
  /** Who may decide a held canary, and for how long it waits, as the policy said when the release started (null: no policy). */
  approvals: { approvers: string[]; approvalTimeoutHours: number } | null;
}

export interface ManifestFile {
  path: string;
  size: number;
  sha256: string;
}

/** One commit of a build's `changes`: `git log --format='%H%x09%an%x09%aI%x09%s'`. */
export interface ChangeEntry {
  sha: string;
  subject: string;
  author?: string;
  /** ISO 8601, the author date. */
  date?: string;
}

export interface BuildManifest {
  service: string;
  version: string;
  commit: string;
  build?: string;
  imageDigest?: string;
  /** The module the local fleet loads, or the zip a Lambda target deploys. */
  entry?: string;
  /**
   * The commits the build contains, newest first (`git rev-list <tag>`; may be capped at the
   * line's branch point): how a dot release of an older line learns whether a newer line holds
   * its fix (hotfix-order.ts). Absent: nobody can tell.
   */
  commits?: string[];
  /**
   * The commits since the previous release's tag, newest first (`git log PREV..TAG`): what the
   * release's notes list (release-notes.ts). Absent: the build lists none.
   */
  changes?: ChangeEntry[];
  createdAt: string;
  files: ManifestFile[];
  /**
   * A config-only release (`v1.4.0-config.1`): the same code as the build `base` (its files,
   * copied in the build store, with their SHA-256 unchanged; the same commit and entry) run
   * with `env`, the complete set of variables this configuration sets. Absent: a code build.
   */
  kind?: 'config';
  base?: string;
  env?: Record<string, string>;
  /** The schema version this build's code expects (after its expand migrations): what an environment's schema becomes when its migrations run. */
  schema?: number;
  /** The schema versions this build's code runs against ("7", or "7+" for 7 and later; schema-compat.ts): what a rollback to it is checked against. */
  schemaCompat?: string[];
}

/** What a config-only release changes: the variables its base build runs with. */
export interface ConfigChange {
  base: string;
  env: Record<string, string>;
}

export interface ResolvedArtifact {
  manifestKey: string;
  commit: string;
  imageDigest?: string;
  entry?: string;
  files: ManifestFile[];
  totalBytes: number;
  /** A config-only release: the build it ships again and the variables it sets. */
  config?: ConfigChange;
  /** The manifest's `schema`, for the migrations (migrations-config.ts). */
  schema?: number;
}

export interface SuiteResult {
  name: string;
  passed: number;
  failed: number;
  skipped?: number;
}

export interface TestReport {
  service: string;
  commit: string;
  finishedAt: string;
  suites: SuiteResult[];
  /** A dot release: the commits it fixes, as they are on the main line (not the cherry-picks), which newer lines must contain. */
  fixes?: string[];
}

/** What one environment is running, as the ledger knows it. */
export interface EnvironmentState {
  service: string;
  environment: string;
  /** The version serving traffic now. */
  version?: string;
  /** Whether `version` passed its checks. */
  healthy: boolean;
  /** Known-good versions, newest first (bounded); the rollback target is the first that is not `version`. */
  goodVersions: string[];
  /** Target-specific handle of each version deployed here (e.g. a Lambda version number). */
  refs: Record<string, string>;
  lastReleaseId?: string;
  lastOutcome?: string;
  updatedAt?: string;
  revision: number;
  lockHolder?: string;
  lockExpiresAt?: number;
  /** A canary in progress: the new version's share of traffic beside `version` (the baseline). */
  canary?: CanaryState | null;
  /**
   * What serves differs from this state (the drift check found it): new releases into the
   * environment are refused until a person acknowledges it or a release or rollback succeeds
   * there. `null` once cleared.
   */
  drift?: DriftMark | null;
  /**
   * A migration ran here (migrations-config.ts): the schema moved and the code cannot simply go
   * back. Later failures hold for a person; the rollback machine refuses versions that do not
   * declare `schemaCompat` with `schema`.
   */
  irreversibleAfter?: IrreversibleMark;
}

/** The last migration that ran in an environment: which release, which migrations, which schema. */
export interface IrreversibleMark {
  version: string;
  releaseId: string;
  phase: 'expand' | 'contract';
  migrations: string[];
  /** The schema now in place (the release's manifest `schema`); absent: the manifest declared none, so no version can be shown to run against it. */
  schema?: number;
  at: string;
}

/** A drift the scheduled check found, as the ledger keeps it (lambdas/lib/steps/detect-drift.ts). */
export interface DriftMark {
  /** ISO instant of the first check that found this drift. */
  detectedAt: string;
  /** What the ledger had, and what served instead, in release versions where known. */
  expected: string;
  actual: string;
  differences: string[];
  /**
   * A person accepted this drift (`tagflow drift --acknowledge`): releases go again, and the
   * same drift is not reported again; a different one replaces the mark.
   */
  acknowledged?: { by: string; at: string; reason: string };
}

export interface CanaryState {
  version: string;
  ref: string;
  baselineRef?: string;
  weight: number;
  stepIndex: number;
  stepStartedAt: string;
  polls: number;
  /**
   * This step's looks as the judge recorded them (`Judgement.look`), one per poll, so that its
   * fail test over the bake horizon can recompute its boundaries. When it does not hold one per
   * poll (a state from before it existed) the judge falls back to its anytime-valid test alone.
   */
  looks?: JudgeLook[];
  /**
   * The looks this step's bake allows, planned at the first look at which the judge could act:
   * `maxBakeSeconds` when configured, else from the totals of traffic seen by then; never changed.
   */
  bakeLooks?: number;
  /** When the canary's first step began (the thresholds are read from the baseline since then). */
  startedAt?: string;
  /** Fixed once for the whole canary; absent until enough baseline requests were seen. */
  latencyThresholds?: LatencyThresholds;
}

/** What counts as a slow request, fixed once per canary so that it never moves between looks. */
export interface LatencyThresholds {
  /** The baseline's p99 (or the configured `slowThresholdMs`). */
  tailMs: number;
  /** The baseline's p90. */
  shiftMs: number;
  /** Where they came from, for the ledger: the requests they were read from. */
  basis: string;
}

/** `aborted`: the execution ended without reaching its own Catch (stopped, timed out, a runtime error); the reconciler records it. */
export type ReleaseOutcome = 'succeeded' | 'failed' | 'rolled-back' | 'aborted';

/** An earlier attempt of a release that was retried, as the release record keeps it. */
export interface AttemptRecord {
  attempt: number;
  executionId: string;
  startedAt: string;
  outcome?: ReleaseOutcome;
  reason?: string;
  finishedAt?: string;
}

export interface ReleaseRecord {
  releaseId: string;
  service: string;
  version: string;
  commit?: string;
  imageDigest?: string;
  trigger: Trigger;
  executionId: string;
  startedAt: string;
  plan: string[];
  /** The service config this release used, as JSON. */
  configSnapshot: string;
  /** 1 unless the version was retried (`retry`); `executionId` and `startedAt` are the current attempt's. */
  attempt?: number;
  /** The earlier attempts, oldest first. */
  attempts?: AttemptRecord[];
  /**
   * `config`: a config-only release (the code of its base build, new configuration); absent:
   * new code. Not named `kind`: the ledger's items use that attribute for their own type.
   */
  releaseKind?: 'config';
}

export interface OutcomeRecord {
  releaseId: string;
  service: string;
  version: string;
  outcome: ReleaseOutcome;
  reason?: string;
  error?: string;
  environments: string[];
  finishedAt: string;
  executionId: string;
  /** The rollback of a broken environment failed too: where, why, and what the ledger says serves there now. */
  rollbackFailed?: { environment: string; error: string; summary: string; serving?: string };
  /** Which attempt of the release this outcome is for (1 when absent). */
  attempt?: number;
}

/** One decision the pipeline took, with the evidence it took it on. */
export interface Decision {
  releaseId: string;
  service: string;
  version: string;
  at: string;
  step: string;
  environment?: string;
  verdict: 'passed' | 'failed' | 'waiting' | 'skipped' | 'done';
  summary: string;
  evidence?: unknown;
}

export const releaseIdOf = (service: string, version: string): string => `${service}@${version}`;
