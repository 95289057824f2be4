import { distinct } from '../approval-decision.js';
import { RULES, approversOf, kindOf } from '../approval-kinds.js';
import { displayName, isInitiator } from '../approver-principal.js';
import { decide } from '../decisions.js';
import { ApprovalNotVerified } from '../errors.js';
import type { Deps } from '../ports.js';
import type { ApprovalRequestInput } from './request-approval.js';

/**
 * After every wait for a person, before the release goes on: the ledger's record of that
 * request must say it was approved, for this execution, by the kind's number of distinct
 * approvers that the config allows now (`policy.approvers`, or a promotion's `approval.from`;
 * and, for an emergency or a promotion, none of them the person who caused the release). Only the approval function (approval-decision.ts) writes approvals, after
 * AWS verified who sent them; a `SendTaskSuccess` sent by hand with the task token (it is in
 * the ledger and the execution history) ends the wait but achieves nothing here:
 * `ApprovalNotVerified` fails the release (or rolls the held canary back).
 */

export interface VerifyApprovalInput {
  request: ApprovalRequestInput;
  /**
   * What the wait ended with: `approve` (the default: a SendTaskSuccess) or `reject` (a
   * SendTaskFailure the machine acts on, as after a migration, where rolling back is the risky
   * side): the ledger must hold that decision, by an allowed person.
   */
  outcome?: 'approve' | 'reject';
}

export interface VerifiedApproval {
  verified: true;
  kind: string;
  approvers: string[];
}

export async function verifyApproval({ request, outcome = 'approve' }: VerifyApprovalInput, deps: Pick<Deps, 'config' | 'approvals' | 'ledger' | 'clock'>): Promise<VerifiedApproval> {
  const kind = kindOf(request);
  const rules = RULES[kind];
  const key = { service: request.release.service, version: request.release.version, environment: request.environment, kind };
  const what = rules.what(key);
  const config = await deps.config();
  const policy = config.policy;
  const { allowed, needed, field } = approversOf(kind, config, key);
  const record = await deps.approvals.get(key);

  const problems: string[] = [];
  let approvers: string[] = [];
  if (!record) problems.push('no approval request is recorded');
  else if (outcome === 'reject') {
    if (record.executionId !== request.executionId) problems.push(`the request belongs to execution ${record.executionId}`);
    if (record.status !== 'rejected' || !record.rejectedBy) problems.push(`the request is ${record.status}, not decided ${rules.rejectWord}`);
    else if (!allowed.includes(record.rejectedBy.approver)) problems.push(`${displayName(record.rejectedBy.approver)} is not in ${field}`);
    else approvers = [record.rejectedBy.approver];
  } else {
    if (record.executionId !== request.executionId) problems.push(`the request belongs to execution ${record.executionId}`);
    if (record.status !== 'approved') problems.push(`the request is ${record.status}, not approved`);
    const approved = distinct(record);
    const notAllowed = approved.filter((a) => !allowed.includes(a));
    const initiators = rules.initiatorMayDecide ? [] : approved.filter((a) => isInitiator(a, record.initiator, policy?.githubLogins ?? {}));
    approvers = approved.filter((a) => !notAllowed.includes(a) && !initiators.includes(a));
    if (notAllowed.length) problems.push(`${notAllowed.map(displayName).join(', ')} ${notAllowed.length > 1 ? 'are' : 'is'} not in ${field}`);
    if (initiators.length) problems.push(`${initiators.map(displayName).join(', ')} caused the release`);
    if (approvers.length < needed) problems.push(`it holds ${approvers.length} valid approval${approvers.length === 1 ? '' : 's'} of the ${needed} it needs`);
  }
  if (problems.length) {
    const summary = `${what} could not be verified: ${problems.join('; ')}. Only approvals sent through the approval function count (was the waiting task answered by hand?)`;
    await decide(deps, request.release, { step: 'approval', environment: request.environment, verdict: 'failed', summary, evidence: { kind, problems, approvals: record?.approvals ?? [], status: record?.status ?? null } });
    throw new ApprovalNotVerified(summary);
  }
  return { verified: true, kind, approvers };
}
