import { decide } from '../decisions.js';
import { REQUIRED_APPROVALS } from '../policy-config.js';
import type { ApprovalChannel, Deps } from '../ports.js';
import type { ReleaseRequest } from '../types.js';
import type { PolicyCheck } from './check-policy.js';

/**
 * The emergency gate's first half: invoked by a waitForTaskToken Task, it stores the task
 * token with the request (so a decision can reach the waiting execution), records it, and
 * puts `Approval Requested` on the bus saying who may approve and how. The execution then
 * waits until two approvers approve, one rejects (see approval-decision.ts), or it times out.
 */

export interface ApprovalRequestInput {
  releaseId: string;
  executionId: string;
  release: ReleaseRequest;
  environment: string;
  policy: Extract<PolicyCheck, { action: 'approve' }>;
}

/** What the approval Task sends: its token beside the request. */
export interface RequestApprovalInput {
  taskToken: string;
  request: ApprovalRequestInput;
}

/** How an approver sends a decision, in words for the event and the logs. */
export function howToApprove(channel: ApprovalChannel, body: { service: string; version: string; environment: string }): string {
  const json = JSON.stringify({ ...body, decision: 'approve' });
  if (channel.kind === 'local') return `locally: tagflow local release … --approve NAME,NAME (or runtime.approve(${JSON.stringify(body)}, NAME))`;
  return `POST ${channel.url} signed with SigV4 as your IAM user or role session (e.g. awscurl --service lambda -X POST -d '${json}' ${channel.url}); "decision":"reject" rejects`;
}

export async function requestApproval({ taskToken, request: input }: RequestApprovalInput, deps: Pick<Deps, 'config' | 'approvals' | 'events' | 'ledger' | 'clock' | 'log' | 'approvalChannel'>): Promise<{ requested: true }> {
  const { release, environment } = input;
  const policy = (await deps.config()).policy;
  const approvers = policy?.approvers ?? [];
  const now = deps.clock.now();
  const expiresAt = new Date(now.getTime() + input.policy.approvalTimeoutSeconds * 1000).toISOString();
  const reason = release.emergency?.reason ?? '(no reason given)';
  const record = await deps.approvals.request({
    service: release.service,
    version: release.version,
    environment,
    releaseId: input.releaseId,
    executionId: input.executionId,
    taskToken,
    reason,
    closed: input.policy.reason,
    requestedAt: now.toISOString(),
    expiresAt,
  });
  const how = howToApprove(deps.approvalChannel, { service: release.service, version: release.version, environment });
  const already = record.approvals.map((a) => a.approver);
  await decide(deps, release, {
    step: 'approval',
    environment,
    verdict: 'waiting',
    summary: `approval requested: ${REQUIRED_APPROVALS} of ${approvers.join(', ')} must approve the emergency release into ${environment} by ${expiresAt}${already.length ? ` (already approved by ${already.join(', ')})` : ''}`,
    evidence: { reason, closed: input.policy.reason, approvers, expiresAt },
  });
  await deps.events.put([
    {
      Source: 'tagflow',
      DetailType: 'Approval Requested',
      Detail: {
        service: release.service,
        version: release.version,
        environment,
        executionId: input.executionId,
        reason: `emergency: ${reason}; ${input.policy.reason}`,
        approvers,
        needed: REQUIRED_APPROVALS,
        expiresAt,
        howToApprove: how,
      },
    },
  ]);
  deps.log.info('approval requested', { service: release.service, version: release.version, environment, approvers, expiresAt, howToApprove: how });
  return { requested: true };
}
