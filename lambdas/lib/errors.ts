/**
 * Errors the state machines route on. Each sets `name` literally: the ASL `Retry` and
 * `Catch` blocks match on it, and bundlers rename classes.
 */

export interface FieldIssue {
  /** Dotted path of the offending field, e.g. `environments[1]` or `service`. */
  field: string;
  problem: string;
}

/** `field: problem; field: problem`, how every message about a document's fields lists them. */
export const listIssues = (issues: readonly FieldIssue[]): string => issues.map((i) => `${i.field}: ${i.problem}`).join('; ');

export abstract class TagflowError extends Error {
  abstract override readonly name: string;
}

export class InvalidInput extends TagflowError {
  override readonly name = 'InvalidInput';
  constructor(
    readonly issues: FieldIssue[],
    readonly example?: string,
  ) {
    super(
      listIssues(issues) +
        (example ? `. A valid input looks like ${example}` : ''),
    );
  }
}

export class ConfigError extends TagflowError {
  override readonly name = 'ConfigError';
  constructor(
    readonly issues: FieldIssue[],
    readonly source = 'tagflow.config.json',
  ) {
    super(`${source} is invalid: ${listIssues(issues)}`);
  }
}

export class UnknownService extends TagflowError {
  override readonly name = 'UnknownService';
}

export class TestsPending extends TagflowError {
  override readonly name = 'TestsPending';
}

export class TestsFailed extends TagflowError {
  override readonly name = 'TestsFailed';
}

export class ArtifactNotFound extends TagflowError {
  override readonly name = 'ArtifactNotFound';
}

export class ArtifactIntegrityError extends TagflowError {
  override readonly name = 'ArtifactIntegrityError';
}

export class ReleaseLocked extends TagflowError {
  override readonly name = 'ReleaseLocked';
}

/** The environment state changed under us (another writer, or our lock expired). */
export class LockLost extends TagflowError {
  override readonly name = 'LockLost';
}

export class DeployFailed extends TagflowError {
  override readonly name = 'DeployFailed';
}

export class SmokeTestFailed extends TagflowError {
  override readonly name = 'SmokeTestFailed';
}

/** The judge found the canary worse than the baseline (or the traffic misrouted). */
export class CanaryFailed extends TagflowError {
  override readonly name = 'CanaryFailed';
}

/** The bake bound passed without enough evidence either way, and the config says fail safe. */
export class CanaryInconclusive extends TagflowError {
  override readonly name = 'CanaryInconclusive';
}

/** An approver decided to roll back a held canary (sent as the waiting hold task's failure). */
export class CanaryRejected extends TagflowError {
  override readonly name = 'CanaryRejected';
}

export class RollbackFailed extends TagflowError {
  override readonly name = 'RollbackFailed';
}

/** The deployment policy keeps the environment closed longer than a release may wait (and no emergency override applies). */
export class DeployWindowClosed extends TagflowError {
  override readonly name = 'DeployWindowClosed';
}

/**
 * What serves in the environment is not what the ledger says (the drift check marked it): no
 * release goes there until a person acknowledges the drift or a rollback restores a known state.
 */
export class EnvironmentDrifted extends TagflowError {
  override readonly name = 'EnvironmentDrifted';
}

/**
 * A release older than what an environment runs (`v1.99.4` into a prod at `v1.100.0`), or a
 * fix that a newer line may lack when nobody can acknowledge that: refused unless an emergency's
 * approvers override it (hotfix-order.ts).
 */
export class VersionRegression extends TagflowError {
  override readonly name = 'VersionRegression';
}

/** An approver rejected an emergency release (sent as the waiting task's failure). */
export class ApprovalRejected extends TagflowError {
  override readonly name = 'ApprovalRejected';
}

/** The caller is not one of `policy.approvers`. */
export class ApproverNotAllowed extends TagflowError {
  override readonly name = 'ApproverNotAllowed';
}

/** No approval request for that release and environment, or it is decided already. */
export class ApprovalNotPending extends TagflowError {
  override readonly name = 'ApprovalNotPending';
}

/** The waiting task is gone (timed out, or its execution ended): the decision came too late. */
export class ApprovalExpired extends TagflowError {
  override readonly name = 'ApprovalExpired';
}

/** A dependency (S3, DynamoDB, Lambda API) kept failing after the SDK's own retries. */
export class DependencyUnavailable extends TagflowError {
  override readonly name = 'DependencyUnavailable';
}

export const errorName = (err: unknown): string =>
  err instanceof Error ? err.name : typeof err === 'string' ? err : 'Error';

export const errorMessage = (err: unknown): string =>
  err instanceof Error ? err.message : String(err);

/** An approver's signed proof of identity is missing, malformed, stale, or refused by STS. */
export class IdentityNotVerified extends TagflowError {
  override readonly name = 'IdentityNotVerified';
}

/** After a wait for a person, the ledger does not hold the approvals the release needs (e.g. its task token was answered by hand). */
export class ApprovalNotVerified extends TagflowError {
  override readonly name = 'ApprovalNotVerified';
}
