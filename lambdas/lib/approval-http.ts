import { approversOf } from './approval-kinds.js';
import { decideApproval, parseDecisionRequest, DECISION_EXAMPLE, type ApprovalOutcome } from './approval-decision.js';
import { bindingOf, checkPresignedUrl } from './approval-proof.js';
import { matchApprover } from './approver-principal.js';
import { ApproverNotAllowed, errorMessage, errorName, IdentityNotVerified, InvalidInput } from './errors.js';
import type { Deps, IdentityVerifier } from './ports.js';

/**
 * The approval function URL's request → response. Who decides is what STS answers for the
 * approver's presigned GetCallerIdentity, bound to this decision (approval-proof.ts): never a
 * field of the body, nor the event's `requestContext`, which a direct `lambda:Invoke` could
 * make up. The body says which release, what decision, and carries that proof:
 *   {"service","version","environment","decision","comment"?, "identity":{"getCallerIdentityUrl":"https://sts…"}}
 */

export interface ApprovalHttpRequest {
  /** `requestContext.authorizer.iam.userArn` when the URL checked a SigV4 signature; when present it must be the prover. */
  urlSignerArn: string | undefined;
  /** The account the function runs in (from its own ARN, which Lambda supplies): approvers must belong to it. */
  account: string | undefined;
  body: string;
  isBase64Encoded?: boolean;
}

export interface ApprovalHttpResponse {
  status: number;
  body: { message: string; outcome?: ApprovalOutcome; error?: string };
}

const STATUS: Record<string, number> = { InvalidInput: 400, IdentityNotVerified: 403, ApproverNotAllowed: 403, ApprovalNotPending: 409, ApprovalExpired: 410, DependencyUnavailable: 503 };

type HttpDeps = Pick<Deps, 'config' | 'approvals' | 'taskTokens' | 'ledger' | 'clock' | 'log'> & { identity: IdentityVerifier };

export async function handleApprovalRequest(req: ApprovalHttpRequest, deps: HttpDeps): Promise<ApprovalHttpResponse> {
  let caller: string | undefined;
  try {
    const { identity, ...fields } = parseBody(req);
    const decision = parseDecisionRequest(fields);
    const proof = checkPresignedUrl(identity, deps.clock.now());
    const verified = await deps.identity.callerOf(proof.url, bindingOf(decision));
    caller = verified.arn;
    if (req.urlSignerArn !== undefined && req.urlSignerArn !== verified.arn) {
      throw new IdentityNotVerified(`the request was sent as ${req.urlSignerArn} but its identity was signed by ${verified.arn}; one person signs both`);
    }
    // Who is anyone's approver for this environment; decideApproval then checks the kind pending there.
    const config = await deps.config();
    const allowed = [...new Set([...approversOf('emergency', config, decision).allowed, ...approversOf('promotion', config, decision).allowed])];
    const match = matchApprover(verified.arn, allowed, req.account);
    if (!match.ok) throw new ApproverNotAllowed(match.reason);
    const outcome = await decideApproval({ ...decision, approver: match.approver.id, signedAt: proof.signedAt.toISOString() }, deps);
    deps.log.info('approval decision', { approver: verified.arn, userId: verified.userId, ...outcome });
    return { status: 200, body: { message: outcome.message, outcome } };
  } catch (err) {
    const status = STATUS[errorName(err)] ?? 500;
    deps.log[status >= 500 ? 'error' : 'warn']('approval decision refused', { caller, urlSigner: req.urlSignerArn, error: errorName(err), reason: errorMessage(err) });
    return { status, body: { error: errorName(err), message: status === 500 ? 'the decision could not be recorded; try again (see the function log)' : errorMessage(err) } };
  }
}

function parseBody(req: ApprovalHttpRequest): Record<string, unknown> & { identity?: unknown } {
  let raw: unknown;
  try {
    raw = JSON.parse(req.isBase64Encoded ? Buffer.from(req.body, 'base64').toString('utf8') : req.body);
  } catch (err) {
    throw new InvalidInput([{ field: '(body)', problem: `not JSON (${(err as Error).message})` }], DECISION_EXAMPLE);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new InvalidInput([{ field: '(body)', problem: 'expected a JSON object' }], DECISION_EXAMPLE);
  const { identity, ...fields } = raw as Record<string, unknown>;
  const url = identity !== null && typeof identity === 'object' ? (identity as Record<string, unknown>).getCallerIdentityUrl : undefined;
  return { ...fields, identity: url };
}
