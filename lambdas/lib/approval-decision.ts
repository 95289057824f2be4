import * as z from 'zod';
import { decide } from './decisions.js';
import { ApprovalExpired, ApprovalNotPending, ApproverNotAllowed, InvalidInput } from './errors.js';
import { REQUIRED_APPROVALS } from './policy-config.js';
import type { ApprovalRecord, Deps } from './ports.js';
import { describeIssues } from './validation.js';
import { ENVIRONMENT_PATTERN, SERVICE_PATTERN } from './version.js';

/**
 * The emergency gate's second half: one approver's decision on one request. The approver is
 * who the caller is (in AWS their IAM identity, never a field of the request), and must be in
 * `policy.approvers`. Approvals by the same approver count once; at two different approvers
 * the waiting Task succeeds with their names; one reject fails it with `ApprovalRejected`.
 * Every approval and rejection is written to the request and as a decision in the ledger.
 */

export const DECISION_EXAMPLE = '{"service":"checkout","version":"v2.4.1","environment":"prod","decision":"approve"}';

/** What an approver sends (the approver's name is not part of it). */
export const decisionRequestSchema = z.strictObject({
  service: z.string().regex(SERVICE_PATTERN, 'expected a service name such as "checkout"'),
  version: z.string().min(1, 'expected the version being released, e.g. "v2.4.1"'),
  environment: z.string().regex(ENVIRONMENT_PATTERN, 'expected an environment name such as "prod"'),
  decision: z.enum(['approve', 'reject'], { error: 'expected "approve" or "reject"' }),
  comment: z.string().max(500).optional(),
});

export type DecisionRequest = z.infer<typeof decisionRequestSchema>;

export interface ApprovalOutcome {
  status: ApprovalRecord['status'];
  /** Distinct approvers so far. */
  approvers: string[];
  needed: number;
  message: string;
}

export function parseDecisionRequest(raw: unknown): DecisionRequest {
  const result = decisionRequestSchema.safeParse(raw);
  if (!result.success) {
    const issues = describeIssues(result.error, (path) => (path.length === 0 ? Object.keys(decisionRequestSchema.shape) : []));
    throw new InvalidInput(
      issues.map((i) => (i.field === 'approver' ? { field: 'approver', problem: 'not accepted: the approver is who signed the request (your IAM identity)' } : i)),
      DECISION_EXAMPLE,
    );
  }
  return result.data;
}

const distinct = (r: ApprovalRecord | undefined) => [...new Set((r?.approvals ?? []).map((a) => a.approver))];

export async function decideApproval(
  req: DecisionRequest & { approver: string },
  deps: Pick<Deps, 'config' | 'approvals' | 'taskTokens' | 'ledger' | 'clock' | 'log'>,
): Promise<ApprovalOutcome> {
  const policy = (await deps.config()).policy;
  const allowed = policy?.approvers ?? [];
  const what = `the emergency release of ${req.service} ${req.version} into ${req.environment}`;
  if (!allowed.includes(req.approver)) {
    throw new ApproverNotAllowed(`"${req.approver}" may not approve: policy.approvers lists ${allowed.join(', ') || 'nobody'}; in AWS the approver is your IAM user name or role session name`);
  }
  const key = { service: req.service, version: req.version, environment: req.environment };
  const request = await deps.approvals.get(key);
  if (!request) throw new ApprovalNotPending(`no approval was requested for ${what}`);
  if (request.status !== 'pending') throw new ApprovalNotPending(`${what} is ${request.status} already${request.decidedAt ? ` (${request.decidedAt})` : ''}; approved by ${distinct(request).join(', ') || 'nobody'}`);
  const at = deps.clock.now().toISOString();
  const release = { service: req.service, version: req.version };

  if (req.decision === 'reject') {
    const rejectedBy = { approver: req.approver, at, ...(req.comment ? { comment: req.comment } : {}) };
    if (!(await deps.approvals.transition(key, 'pending', 'rejected', at, rejectedBy))) throw new ApprovalNotPending(`${what} was decided by someone else a moment ago`);
    const cause = `${req.approver} rejected ${what} at ${at}${req.comment ? `: ${req.comment}` : ''}`;
    await decide(deps, release, { step: 'approval', environment: req.environment, verdict: 'failed', summary: cause, evidence: { rejectedBy, approvals: request.approvals } });
    await send(deps, key, 'rejected', () => deps.taskTokens.fail(request.taskToken, 'ApprovalRejected', cause));
    return { status: 'rejected', approvers: distinct(request), needed: REQUIRED_APPROVALS, message: cause };
  }

  const { added, record } = await deps.approvals.addApproval(key, req.approver, at);
  const approvers = distinct(record);
  if (record && record.status !== 'pending') throw new ApprovalNotPending(`${what} is ${record.status} already`);
  await decide(deps, release, {
    step: 'approval',
    environment: req.environment,
    verdict: 'waiting',
    summary: added ? `${req.approver} approved ${what} (${approvers.length}/${REQUIRED_APPROVALS})` : `${req.approver} approved ${what} again; an approver counts once (${approvers.length}/${REQUIRED_APPROVALS})`,
    evidence: { approver: req.approver, at, approvers },
  });
  if (approvers.length < REQUIRED_APPROVALS) {
    return { status: 'pending', approvers, needed: REQUIRED_APPROVALS, message: `${approvers.length}/${REQUIRED_APPROVALS} approvals (${approvers.join(', ')}); waiting for ${REQUIRED_APPROVALS - approvers.length} more from ${allowed.filter((a) => !approvers.includes(a)).join(', ')}` };
  }
  // Exactly one caller moves it to approved, so the Task gets one success.
  if (!(await deps.approvals.transition(key, 'pending', 'approved', at))) throw new ApprovalNotPending(`${what} was decided by someone else a moment ago`);
  const message = `${what} approved by ${approvers.join(' and ')}`;
  await decide(deps, release, { step: 'approval', environment: req.environment, verdict: 'passed', summary: message, evidence: { approvals: record!.approvals } });
  await send(deps, key, 'approved', () => deps.taskTokens.succeed(record!.taskToken, { approvers, approvals: record!.approvals, approvedAt: at }));
  return { status: 'approved', approvers, needed: REQUIRED_APPROVALS, message };
}

/**
 * Sends the decision to the waiting Task. A token that is gone (timed out) marks the request
 * expired; any other failure puts it back to pending so that the approver can send it again.
 */
async function send(deps: Pick<Deps, 'approvals' | 'clock'>, key: { service: string; version: string; environment: string }, decided: ApprovalRecord['status'], sendIt: () => Promise<void>): Promise<void> {
  try {
    await sendIt();
  } catch (err) {
    const at = deps.clock.now().toISOString();
    if (err instanceof ApprovalExpired) {
      await deps.approvals.transition(key, decided, 'expired', at);
      throw err;
    }
    await deps.approvals.transition(key, decided, 'pending', at);
    throw err;
  }
}
