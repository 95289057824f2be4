import { handleApprovalRequest, type ApprovalHttpRequest } from './approval-http.js';
import { handleFreezeRequest, isFreezeBody } from './freeze-http.js';
import type { Deps, IdentityVerifier } from './ports.js';

/**
 * What the approval function URL answers: a freeze or unfreeze (`"action"` in the body,
 * freeze-http.ts), or an approver's decision (approval-http.ts). Both prove the signer the same
 * way and only `policy.approvers` may do either.
 */
export async function handleApprovalUrlRequest(
  req: ApprovalHttpRequest,
  deps: Pick<Deps, 'config' | 'approvals' | 'taskTokens' | 'ledger' | 'clock' | 'log'> & { identity: IdentityVerifier },
): Promise<{ status: number; body: unknown }> {
  let fields: unknown;
  try {
    fields = JSON.parse(req.isBase64Encoded ? Buffer.from(req.body, 'base64').toString('utf8') : req.body);
  } catch {
    fields = undefined; // the decision path names what is wrong with the body
  }
  if (fields !== null && typeof fields === 'object' && !Array.isArray(fields) && isFreezeBody(fields as Record<string, unknown>)) {
    return handleFreezeRequest({ urlSignerArn: req.urlSignerArn, account: req.account, fields: fields as Record<string, unknown> }, deps);
  }
  return handleApprovalRequest(req, deps);
}
