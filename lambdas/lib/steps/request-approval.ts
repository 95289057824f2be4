import { RULES, approversOf, kindOf, type ApprovalKind } from '../approval-kinds.js';
import { decide } from '../decisions.js';
import type { ApprovalChannel, ApprovalRecord, Deps } from '../ports.js';
import type { ReleaseRequest } from '../types.js';
import type { CanaryHold } from './canary.js';
import type { PolicyCheck, PromotionGate } from './check-policy.js';
import type { MigrationOutcome } from './migrate.js';
import { describeFailure, type StepFailure } from '../failure.js';

/**
 * The human gate's first half, for every kind (approval-kinds.ts): invoked by a
 * waitForTaskToken Task, it stores the task token with the request (so a decision can reach
 * the waiting execution), records it, and puts `Approval Requested` on the bus saying what to
 * decide, who may, and how. The execution then waits until the decision (approval-decision.ts)
 * or its timeout.
 */

interface RequestBase {
  releaseId: string;
  executionId: string;
  release: ReleaseRequest;
  environment: string;
  /** Where the machine's one approval Task reads its TimeoutSecondsPath and timeout cause, for either gate kind. */
  approvalTimeoutSeconds?: number;
  timeoutReason?: string;
}

/** An emergency release into a closed environment, or over a regression (no `kind`: what the ASL sent before holds existed). */
export interface EmergencyRequest extends RequestBase {
  kind?: 'emergency';
  policy: Extract<PolicyCheck, { action: 'approve' }>;
}

/** A release of an older line that a newer line may lack the fix of (hotfix-order.ts): one acknowledgement. */
export interface HotfixOrderRequest extends RequestBase {
  kind: 'hotfix-order';
  policy: Extract<PolicyCheck, { action: 'approve' }>;
}

/** A canary inconclusive at its bake bound, held at its weight for a person to decide. */
export interface CanaryHoldRequest extends RequestBase {
  kind: 'canary-hold';
  hold: CanaryHold;
}

/** An environment with `approval` in its config: its routine sign-off before the deploy. */
export interface PromotionRequest extends RequestBase {
  kind: 'promotion';
  promotion: PromotionGate;
}

/** A release that failed in an environment after a migration ran there: keep what serves, or roll back anyway. */
export interface MigrationHoldRequest extends RequestBase {
  kind: 'migration-hold';
  migration: MigrationOutcome & { hold: NonNullable<MigrationOutcome['hold']> };
  /** What failed after the migration (the machine's `$.failure`). */
  failure?: StepFailure;
}

export type ApprovalRequestInput = EmergencyRequest | CanaryHoldRequest | PromotionRequest | HotfixOrderRequest | MigrationHoldRequest;

/** What the approval Task sends: its token beside the request. */
export interface RequestApprovalInput {
  taskToken: string;
  request: ApprovalRequestInput;
}

/** How an approver sends a decision, in words for the event and the logs. */
export function howToApprove(channel: ApprovalChannel, body: { service: string; version: string; environment: string }, kind: ApprovalKind = 'emergency', needed = RULES[kind].needed): string {
  const { approveWord, rejectWord } = RULES[kind];
  if (channel.kind === 'local') {
    const names = needed > 1 ? 'NAME,NAME' : 'NAME';
    // No quotes: the line goes into notifications, whose input transformers paste values unescaped.
    return `locally: tagflow local release … --approve ${names} (in code: runtime.approve(request, NAME) for ${body.service} ${body.version} in ${body.environment}; runtime.reject(…) to ${rejectWord})`;
  }
  const flags = `--service ${body.service} --version ${body.version} --environment ${body.environment}`;
  return `tagflow approve ${flags} --decision ${approveWord} --url ${channel.url} (signs with your AWS credentials: an IAM user or IAM Identity Center session ${kind === 'promotion' ? "in the environment's approval.from" : 'in policy.approvers'}); --decision ${rejectWord} ${rejectWord === 'reject' ? 'rejects' : 'rolls back'}`;
}

/** The parts that differ by kind: the reason people read, and what the ledger keeps. */
function describeRequest(input: ApprovalRequestInput, approvers: string[], needed: number, expiresAt: string) {
  const { release, environment } = input;
  if (input.kind === 'promotion') {
    const reason = `${environment} needs ${needed} approval${needed === 1 ? '' : 's'} before each deploy`;
    return {
      stored: { reason },
      eventReason: `promotion: ${reason}`,
      summary: `approval requested: ${needed} of ${approvers.join(', ')} must approve the promotion of ${release.version} into ${environment} by ${expiresAt}; no decision fails the release`,
      evidence: { reason, approvers, needed, expiresAt },
      extra: {},
    };
  }
  if (input.kind === 'canary-hold') {
    const { hold } = input;
    return {
      stored: { reason: hold.reason, hold: { weight: hold.weight, step: hold.step, evidence: hold.evidence } },
      eventReason: `canary hold: ${hold.reason}`,
      summary: `canary ${release.version} held at ${hold.weight}% of ${environment}: one of ${approvers.join(', ')} must decide promote or rollback by ${expiresAt}; no decision rolls it back`,
      evidence: { reason: hold.reason, weight: hold.weight, step: hold.step, approvers, expiresAt, judge: hold.evidence },
      extra: { weight: hold.weight, decisions: ['promote', 'rollback'] },
    };
  }
  if (input.kind === 'migration-hold') {
    const { error, message } = describeFailure(input.failure);
    const failed = `${error}: ${message}`;
    const reason = `${input.migration.hold.reason}; then ${failed}`;
    return {
      stored: { reason },
      eventReason: `migration hold: ${reason}`,
      summary: `held after migration: ${release.version} failed in ${environment} after ${input.migration.ran.join(', ')} ran; one of ${approvers.join(', ')} must decide promote (keep what serves) or rollback (roll the code back despite the migration) by ${expiresAt}; no decision keeps what serves`,
      evidence: { reason, migrations: input.migration.ran, ...(input.migration.schema === undefined ? {} : { schema: input.migration.schema }), failure: failed, approvers, expiresAt },
      extra: { decisions: ['promote', 'rollback'] },
    };
  }
  if (input.kind === 'hotfix-order') {
    const reason = input.policy.reason;
    return {
      stored: { reason },
      eventReason: `hotfix order: ${reason}`,
      summary: `acknowledgement requested: one of ${approvers.join(', ')} must acknowledge releasing ${release.version} into ${environment} ahead of a newer line that may lack its fix, by ${expiresAt}; no decision fails the release`,
      evidence: { reason, approvers, needed, expiresAt },
      extra: {},
    };
  }
  const reason = release.emergency?.reason ?? '(no reason given)';
  return {
    stored: { reason, closed: input.policy.reason },
    eventReason: `emergency: ${reason}; ${input.policy.reason}`,
    summary: `approval requested: ${RULES.emergency.needed} of ${approvers.join(', ')} must approve the emergency release into ${environment} by ${expiresAt}`,
    evidence: { reason, closed: input.policy.reason, approvers, expiresAt },
    extra: {},
  };
}

export async function requestApproval({ taskToken, request: input }: RequestApprovalInput, deps: Pick<Deps, 'config' | 'approvals' | 'events' | 'ledger' | 'clock' | 'log' | 'approvalChannel'>): Promise<{ requested: true }> {
  const { release, environment } = input;
  const kind = kindOf(input);
  const rules = RULES[kind];
  const { allowed: approvers, needed } = approversOf(kind, await deps.config(), { service: release.service, environment });
  const now = deps.clock.now();
  const timeoutSeconds =
    input.kind === 'canary-hold'
      ? input.hold.approvalTimeoutSeconds
      : input.kind === 'promotion'
        ? input.promotion.approvalTimeoutSeconds
        : input.kind === 'migration-hold'
          ? input.migration.hold.approvalTimeoutSeconds
          : input.policy.approvalTimeoutSeconds;
  const expiresAt = new Date(now.getTime() + timeoutSeconds * 1000).toISOString();
  const d = describeRequest(input, approvers, needed, expiresAt);
  const request: Omit<ApprovalRecord, 'status' | 'approvals' | 'rejectedBy' | 'decidedAt'> = {
    service: release.service,
    version: release.version,
    environment,
    ...(kind === 'emergency' ? {} : { kind }),
    releaseId: input.releaseId,
    executionId: input.executionId,
    taskToken,
    ...d.stored,
    requestedAt: now.toISOString(),
    expiresAt,
    ...(release.initiator ? { initiator: release.initiator } : {}),
  };
  const record = await deps.approvals.request(request, { keepApprovals: rules.keepsApprovals });
  const how = howToApprove(deps.approvalChannel, { service: release.service, version: release.version, environment }, kind, needed);
  const already = record.approvals.map((a) => a.approver);
  await decide(deps, release, {
    step: 'approval',
    environment,
    verdict: 'waiting',
    summary: `${d.summary}${already.length ? ` (already approved by ${already.join(', ')})` : ''}`,
    evidence: d.evidence,
  });
  await deps.events.put([
    {
      Source: 'tagflow',
      DetailType: 'Approval Requested',
      Detail: {
        kind,
        service: release.service,
        version: release.version,
        environment,
        executionId: input.executionId,
        reason: d.eventReason,
        approvers,
        needed,
        ...d.extra,
        expiresAt,
        howToApprove: how,
      },
    },
  ]);
  deps.log.info('approval requested', { kind, service: release.service, version: release.version, environment, approvers, expiresAt, howToApprove: how });
  return { requested: true };
}
