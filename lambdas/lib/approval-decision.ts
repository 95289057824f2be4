import * as z from 'zod';
import { decide } from './decisions.js';
import { displayName, isInitiator } from './approver-principal.js';
import { ApprovalExpired, ApprovalNotPending, ApproverNotAllowed, IdentityNotVerified, InvalidInput } from './errors.js';
import { RULES, approversOf, isApproval, kindsDecidedBy, type ApprovalKind } from './approval-kinds.js';
import type { ApprovalKey, ApprovalRecord, Deps } from './ports.js';
import { describeIssues } from './validation.js';
import { ENVIRONMENT_PATTERN, SERVICE_PATTERN } from './version.js';

/**
 * The human gate's second half: one approver's decision on the request a release waits on in
 * one environment, by the rules of its kind (approval-kinds.ts). The approver is who the
 * caller is (in AWS the principal STS verified, approval-http.ts; never a field of the
 * request), and must be one of the kind's approvers (`policy.approvers`, or for a promotion the
 * environment's `approval.from`); the person who caused a release may not approve its
 * emergency or promotion. Approvals by the same approver count once; at the kind's number of
 * different approvers (two for an emergency, one for a canary hold, `approval.needed` for a
 * promotion) the waiting Task succeeds
 * with their names; one reject (or rollback) fails it with the kind's error. Every approval
 * and rejection is written to the request and as a decision in the ledger.
 */

export const DECISION_EXAMPLE = '{"service":"checkout","version":"v2.4.1","environment":"prod","decision":"approve"}';

/** What an approver sends (the approver's name is not part of it). */
export const decisionRequestSchema = z.strictObject({
  service: z.string().regex(SERVICE_PATTERN, 'expected a service name such as "checkout"'),
  version: z.string().min(1, 'expected the version being released, e.g. "v2.4.1"'),
  environment: z.string().regex(ENVIRONMENT_PATTERN, 'expected an environment name such as "prod"'),
  decision: z.enum(['approve', 'reject', 'promote', 'rollback'], { error: 'expected "approve" or "reject" (an emergency release or a promotion), or "promote" or "rollback" (a held canary; approve and reject mean the same)' }),
  comment: z.string().max(500).optional(),
});

export type DecisionRequest = z.infer<typeof decisionRequestSchema>;

export interface ApprovalOutcome {
  kind: ApprovalKind;
  status: ApprovalRecord['status'];
  /** Distinct approvers so far. */
  approvers: string[];
  needed: number;
  message: string;
}

export function parseDecisionRequest(raw: unknown): DecisionRequest {
  const result = decisionRequestSchema.safeParse(raw, { reportInput: true });
  if (!result.success) {
    const issues = describeIssues(result.error, (path) => (path.length === 0 ? Object.keys(decisionRequestSchema.shape) : []));
    throw new InvalidInput(
      issues.map((i) => (i.field === 'approver' ? { field: 'approver', problem: 'not accepted: the approver is who signed the request (your IAM identity)' } : i)),
      DECISION_EXAMPLE,
    );
  }
  return result.data;
}

/** Each approver once, in the order they approved. */
export const distinct = (r: ApprovalRecord | undefined) => [...new Set((r?.approvals ?? []).map((a) => a.approver))];
/** Names for messages: alice, alice@acme.io (the records keep the whole principal). */
const names = (ids: readonly string[]) => ids.map(displayName).join(', ');
const both = (ids: readonly string[]) => ids.map(displayName).join(' and ');

/**
 * The request this decision is for. A release waits on one thing at a time in an environment,
 * so at most one of its requests there is pending; otherwise the newest says what happened.
 */
async function findRequest(deps: Pick<Deps, 'approvals'>, req: DecisionRequest): Promise<{ kind: ApprovalKind; record: ApprovalRecord | undefined }> {
  const kinds = kindsDecidedBy(req.decision);
  const found = await Promise.all(kinds.map(async (kind) => ({ kind, record: await deps.approvals.get({ service: req.service, version: req.version, environment: req.environment, kind }) })));
  const pending = found.find((f) => f.record?.status === 'pending');
  if (pending) return pending;
  const newest = found.filter((f) => f.record).sort((a, b) => b.record!.requestedAt.localeCompare(a.record!.requestedAt))[0];
  return newest ?? { kind: kinds[0]!, record: undefined };
}

export async function decideApproval(
  req: DecisionRequest & { approver: string; /** When the approver signed their proof (AWS): it must not predate the request. */ signedAt?: string },
  deps: Pick<Deps, 'config' | 'approvals' | 'taskTokens' | 'ledger' | 'clock' | 'log'>,
): Promise<ApprovalOutcome> {
  const config = await deps.config();
  const { kind, record: request } = await findRequest(deps, req);
  const { allowed, needed, field } = approversOf(kind, config, req);
  if (!allowed.includes(req.approver)) {
    throw new ApproverNotAllowed(`"${req.approver}" may not decide: ${field} lists ${allowed.join(', ') || 'nobody'}; in AWS the approver is the principal your credentials sign as (an IAM user, or an IAM Identity Center session)`);
  }
  const rules = RULES[kind];
  const what = rules.what(req);
  const key = { service: req.service, version: req.version, environment: req.environment, kind };
  if (!request) {
    const words = req.decision === 'promote' || req.decision === 'rollback' ? `; "${req.decision}" decides a held canary` : '';
    throw new ApprovalNotPending(`no approval was requested for ${what}${words}`);
  }
  // Expired: the release no longer waits (its wait timed out, or its execution ended and was reconciled): 410, as when the token is gone.
  if (request.status === 'expired') throw new ApprovalExpired(`${what} no longer waits for a decision${request.decidedAt ? ` (since ${request.decidedAt})` : ''}: it timed out or its execution ended`);
  if (request.status !== 'pending') throw new ApprovalNotPending(`${what} is ${request.status} already${request.decidedAt ? ` (${request.decidedAt})` : ''}; ${rules.approved} by ${names(distinct(request)) || 'nobody'}`);
  // SigV4 dates have whole seconds: a signature from the second the request was made counts.
  if (req.signedAt !== undefined && Date.parse(req.signedAt) < Math.floor(Date.parse(request.requestedAt) / 1000) * 1000) {
    throw new IdentityNotVerified(`the decision was signed at ${req.signedAt}, before ${what} was requested (${request.requestedAt}); sign it again`);
  }
  if (!rules.initiatorMayDecide && isInitiator(req.approver, request.initiator, config.policy?.githubLogins ?? {})) {
    throw new ApproverNotAllowed(`${displayName(req.approver)} caused this release (${describeInitiator(request.initiator!)}) and may not approve ${what}: ${needed} other approver${needed === 1 ? '' : 's'} must`);
  }
  const at = deps.clock.now().toISOString();
  const release = { service: req.service, version: req.version };

  if (!isApproval(req.decision)) {
    const rejectedBy = { approver: req.approver, at, ...(req.comment ? { comment: req.comment } : {}) };
    if (!(await deps.approvals.transition(key, 'pending', 'rejected', at, rejectedBy))) throw new ApprovalNotPending(`${what} was decided by someone else a moment ago`);
    const cause = `${displayName(req.approver)} ${rules.rejected} ${what} at ${at}${req.comment ? `: ${req.comment}` : ''}`;
    await decide(deps, release, { step: 'approval', environment: req.environment, verdict: 'failed', summary: cause, evidence: { kind, decision: rules.rejectWord, rejectedBy, approvals: request.approvals } });
    await send(deps, key, 'rejected', () => deps.taskTokens.fail(request.taskToken, rules.rejectError, cause));
    return { kind, status: 'rejected', approvers: distinct(request), needed, message: cause };
  }

  const { added, record } = await deps.approvals.addApproval(key, req.approver, at);
  const approvers = distinct(record);
  if (record && record.status !== 'pending') throw new ApprovalNotPending(`${what} is ${record.status} already`);
  // Approvals that count towards a number get a line each; a one-decision kind gets only the decision's.
  if (needed > 1) {
    await decide(deps, release, {
      step: 'approval',
      environment: req.environment,
      verdict: 'waiting',
      summary: added ? `${displayName(req.approver)} approved ${what} (${approvers.length}/${needed})` : `${displayName(req.approver)} approved ${what} again; an approver counts once (${approvers.length}/${needed})`,
      evidence: { kind, approver: req.approver, at, approvers },
    });
  }
  if (approvers.length < needed) {
    return { kind, status: 'pending', approvers, needed, message: `${approvers.length}/${needed} approvals (${names(approvers)}); waiting for ${needed - approvers.length} more from ${names(allowed.filter((a) => !approvers.includes(a)))}` };
  }
  // Exactly one caller moves it to approved, so the Task gets one success.
  if (!(await deps.approvals.transition(key, 'pending', 'approved', at))) throw new ApprovalNotPending(`${what} was decided by someone else a moment ago`);
  const message = needed === 1 ? `${displayName(req.approver)} ${rules.approved} ${what} at ${at}` : `${what} approved by ${both(approvers)}`;
  await decide(deps, release, { step: 'approval', environment: req.environment, verdict: 'passed', summary: message, evidence: { kind, decision: rules.approveWord, approvals: record!.approvals } });
  await send(deps, key, 'approved', () => deps.taskTokens.succeed(record!.taskToken, { kind, decision: rules.approveWord, approvers, approvals: record!.approvals, approvedAt: at }));
  return { kind, status: 'approved', approvers, needed, message };
}

export const describeInitiator = (i: NonNullable<ApprovalRecord['initiator']>): string =>
  [i.github ? `GitHub user ${i.github} pushed its tag` : '', i.arn ? `${i.arn} created its tag` : ''].filter(Boolean).join('; ');

/**
 * Sends the decision to the waiting Task. A token that is gone (timed out) marks the request
 * expired; any other failure puts it back to pending so that the approver can send it again.
 */
async function send(deps: Pick<Deps, 'approvals' | 'clock'>, key: ApprovalKey, decided: ApprovalRecord['status'], sendIt: () => Promise<void>): Promise<void> {
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
