import { decideApproval, parseDecisionRequest, type ApprovalOutcome } from './approval-decision.js';
import { errorMessage, errorName } from './errors.js';
import { approverFromArn } from './iam-identity.js';
import type { Deps } from './ports.js';

/**
 * The approval function URL's request → response: the approver is the SigV4 signer Lambda
 * verified (AWS_IAM auth), the body says which release and what decision.
 */

export interface ApprovalHttpRequest {
  /** `requestContext.authorizer.iam.userArn`; absent when the URL is not behind AWS_IAM. */
  callerArn: string | undefined;
  body: string;
  isBase64Encoded?: boolean;
}

export interface ApprovalHttpResponse {
  status: number;
  body: { message: string; outcome?: ApprovalOutcome; error?: string };
}

const STATUS: Record<string, number> = { InvalidInput: 400, ApproverNotAllowed: 403, ApprovalNotPending: 409, ApprovalExpired: 410, DependencyUnavailable: 503 };

export async function handleApprovalRequest(req: ApprovalHttpRequest, deps: Pick<Deps, 'config' | 'approvals' | 'taskTokens' | 'ledger' | 'clock' | 'log'>): Promise<ApprovalHttpResponse> {
  if (!req.callerArn) return { status: 403, body: { error: 'ApproverNotAllowed', message: 'no IAM identity on the request: the approval URL must use AWS_IAM auth and the request be signed with SigV4' } };
  const approver = approverFromArn(req.callerArn);
  if (!approver) return { status: 403, body: { error: 'ApproverNotAllowed', message: `${req.callerArn} has no personal name to match policy.approvers (an IAM user or an assumed-role session can approve; the account root cannot)` } };
  let raw: unknown;
  try {
    raw = JSON.parse(req.isBase64Encoded ? Buffer.from(req.body, 'base64').toString('utf8') : req.body);
  } catch (err) {
    return { status: 400, body: { error: 'InvalidInput', message: `the body is not JSON (${(err as Error).message}); send e.g. {"service":"checkout","version":"v2.4.1","environment":"prod","decision":"approve"}` } };
  }
  try {
    const outcome = await decideApproval({ ...parseDecisionRequest(raw), approver }, deps);
    deps.log.info('approval decision', { approver, caller: req.callerArn, ...outcome });
    return { status: 200, body: { message: outcome.message, outcome } };
  } catch (err) {
    const status = STATUS[errorName(err)] ?? 500;
    deps.log[status >= 500 ? 'error' : 'warn']('approval decision refused', { approver, caller: req.callerArn, error: errorName(err), reason: errorMessage(err) });
    return { status, body: { error: errorName(err), message: status === 500 ? 'the decision could not be recorded; try again (see the function log)' : errorMessage(err) } };
  }
}
