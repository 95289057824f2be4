import { bindingOf } from '../../lambdas/lib/approval-proof.js';
import { signBody, type Credentials } from './approval-signing.js';

/**
 * `tagflow approve`: an approver's decision on a waiting release, sent to the deployed
 * approval function URL. The CLI signs it with the approver's normal AWS credentials (the
 * SDK's credential chain: environment, profile, IAM Identity Center, …): a presigned
 * GetCallerIdentity bound to this decision proves who they are, and the POST itself is signed
 * for the URL's AWS_IAM auth.
 */

export interface ApproveOptions {
  service: string;
  version: string;
  environment: string;
  decision: 'approve' | 'reject' | 'promote' | 'rollback';
  comment?: string;
  /** The stack's `ApprovalUrl` output. */
  url: string;
  /** Where to presign STS (default: the URL's region). */
  region?: string;
}

export interface ApproveDeps {
  credentials: () => Promise<Credentials>;
  post: (url: string, init: { method: 'POST'; headers: Record<string, string>; body: string }) => Promise<{ status: number; text(): Promise<string> }>;
  now: () => Date;
}

export interface ApproveResult {
  status: number;
  message: string;
  ok: boolean;
}

const URL_REGION = /\.lambda-url\.([a-z0-9-]+)\.on\.aws$/;

/** Checks the URL before anything is signed: the stack's ApprovalUrl is `https://<id>.lambda-url.<region>.on.aws/`. */
export function approvalUrlProblem(url: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return `--url ${JSON.stringify(url)} is not a URL; use the stack's ApprovalUrl output (https://<id>.lambda-url.<region>.on.aws/)`;
  }
  if (u.protocol !== 'https:') return `--url must be https (the stack's ApprovalUrl output), not ${u.protocol}`;
  return undefined;
}

export async function approve(opts: ApproveOptions, deps: ApproveDeps): Promise<ApproveResult> {
  const decision = { service: opts.service, version: opts.version, environment: opts.environment, decision: opts.decision, ...(opts.comment ? { comment: opts.comment } : {}) };
  const { body: _body, ...result } = await sendSigned(opts.url, decision, bindingOf(decision), deps, opts.region);
  return result;
}

/**
 * Sends one request to the approval URL (a decision, a freeze) signed with the caller's own
 * credentials: the identity proof for `binding` in the body, the POST signed for AWS_IAM auth.
 */
export async function sendSigned(url: string, fields: Record<string, unknown>, binding: string, deps: ApproveDeps, regionOverride?: string): Promise<ApproveResult & { body?: unknown }> {
  const region = regionOverride ?? URL_REGION.exec(new URL(url).hostname)?.[1];
  if (!region) throw new Error(`cannot tell the region from ${url}; pass --region`);
  let credentials: Credentials;
  try {
    credentials = await deps.credentials();
  } catch (err) {
    throw new Error(`no AWS credentials to sign with (${(err as Error).message}); sign in as yourself first (e.g. aws sso login, or set AWS_PROFILE)`);
  }
  const signed = await signBody(url, fields, binding, credentials, region, deps.now());
  const res = await deps.post(signed.url, { method: 'POST', headers: signed.headers, body: signed.body });
  const text = await res.text();
  let message = text;
  let body: unknown;
  try {
    body = JSON.parse(text);
    const b = body as { message?: string; error?: string; Message?: string };
    message = [b.error, b.message ?? b.Message].filter(Boolean).join(': ') || text;
  } catch {
    // Not JSON (e.g. an HTML error page): show it as it came.
  }
  return { status: res.status, message, ok: res.status === 200, ...(body !== undefined ? { body } : {}) };
}
