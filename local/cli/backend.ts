import type { PipelineConfig } from '../../lambdas/lib/config.js';
import type { AcknowledgeFlags } from '../../lambdas/lib/drift-acknowledge.js';
import type { ServingReader } from '../../lambdas/lib/drift.js';
import type { DriftMark } from '../../lambdas/lib/types.js';
import type { FreezeFlags } from '../../lambdas/lib/freezes.js';
import type { Executions, Ledger, LedgerFreeze, MetricsSource, ObjectStore } from '../../lambdas/lib/ports.js';
import type { TargetConfig } from '../../lambdas/lib/config.js';
import type { ExecutionSummary } from '../runtime/runtime.js';
import type { ProgressEvent } from './progress.js';
import type { PublishTarget } from './publish-signer.js';

export type MachineName = 'release' | 'rollback' | 'train';

/** An execution a command started, followed to its end. */
export interface RunHandle {
  executionArn: string;
  /** Where a person sees it in the AWS console (a deployed stack only). */
  consoleUrl?: string;
  done: Promise<ExecutionSummary>;
}

/** What `send-event` did: the executions the local rules started, or the id the bus gave the event. */
export type SentEvent =
  | { kind: 'local'; started: { rule: string; execution: RunHandle }[]; unmatched?: string }
  | { kind: 'stack'; eventId: string; bus: string };

/**
 * Where the commands act: the local runtime (`.tagflow/`) or a deployed stack (`--stack`). Every
 * command is written once against this; the two implementations are the only place the
 * difference lives (local/cli/local-backend.ts, local/cli/aws/stack-backend.ts).
 */
export interface Backend {
  /** One line for a footer: where the ledger and executions are. */
  readonly where: string;
  readonly config: PipelineConfig;
  readonly ledger: Ledger;
  /** Whether a lock's holder still runs. */
  readonly executions: Executions;
  readonly store: ObjectStore;
  /** Where CI uploads builds and test reports. */
  readonly artifactsBucket: string;
  /** What publish-build and publish-config sign manifests with (publish-signer.ts): the data dir's key, or the stack's KMS key. */
  readonly signing: PublishTarget;
  /** The metrics a canary is judged on, for `plan`'s live traffic. */
  metrics(target: TargetConfig): MetricsSource;
  /** What a target really serves, for `drift`. */
  serving(target: TargetConfig): ServingReader;
  /** The approvals endpoint (`ApprovalUrl`), where the backend has one. */
  readonly approvalUrl?: string;
  now(): Date;
  /**
   * `tagflow freeze` / `unfreeze`: locally written as the OS user; on a stack sent through the
   * approval URL, where the function records the signer STS names (lambdas/lib/freeze-http.ts).
   * A bad input or a refusal throws FreezeInputError (exit 2).
   */
  declareFreeze(flags: FreezeFlags): Promise<LedgerFreeze>;
  endFreeze(name: string): Promise<LedgerFreeze>;
  /** `tagflow drift --acknowledge`: accepts a marked drift, as the caller (on a stack the signer, through the approval URL). */
  acknowledgeDrift(flags: AcknowledgeFlags): Promise<DriftMark>;
  start(machine: MachineName, input: unknown, onEvent: (e: ProgressEvent) => void): Promise<RunHandle>;
  sendEvent(event: Record<string, unknown>, onEvent: (e: ProgressEvent) => void): Promise<SentEvent>;
  /** What to print before the command's own output (warnings, executions reconciled at start). */
  readonly notices: string[];
  close(): Promise<void>;
}
