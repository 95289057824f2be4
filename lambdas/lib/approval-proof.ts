import { createHash } from 'node:crypto';
import { IdentityNotVerified } from './errors.js';

/**
 * An approver proves who they are the way Vault's AWS auth method and aws-iam-authenticator
 * do: their client presigns `sts:GetCallerIdentity` with their own credentials, and the
 * approval function sends that request to STS, which answers with the signer's ARN. Only the
 * holder of the credentials can make the signature, and the function cannot be talked into
 * asking anyone but STS, so neither a body field nor a made-up `requestContext` in a direct
 * invoke can name someone else.
 *
 * The signature also covers the header `x-tagflow-approval`, whose value is this one decision
 * (service, version, environment, decision word, a hash of the comment): the function sends
 * the value it computes from the body, so a presigned request made for one decision is refused
 * by STS for any other. It is fresh (signed at most MAX_AGE_SECONDS ago) and is never stored
 * or logged.
 */

export const BINDING_HEADER = 'x-tagflow-approval';
/** How old a signature may be when it arrives. */
export const MAX_AGE_SECONDS = 300;
/** Clocks differ: how far in the future a signature's date may be. */
const CLOCK_SKEW_SECONDS = 60;

export interface DecisionBinding {
  service: string;
  version: string;
  environment: string;
  decision: string;
  comment?: string | undefined;
}

/** The header value that binds a signature to one decision (printable ASCII: the fields' patterns allow nothing else; the comment is hashed). */
export function bindingOf(d: DecisionBinding): string {
  const comment = d.comment ? createHash('sha256').update(d.comment, 'utf8').digest('hex') : '-';
  return `tagflow-approval/1 service=${d.service} version=${d.version} environment=${d.environment} decision=${d.decision} comment=${comment}`;
}

/** STS endpoints only (global, regional, FIPS; aws and aws-cn partitions): the function never sends the request anywhere else. */
const STS_HOST = /^sts(-fips)?(\.[a-z]{2}(-gov)?-[a-z]+-\d)?\.amazonaws\.com(\.cn)?$/;
const PARAMS = new Set(['Action', 'Version', 'X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Date', 'X-Amz-Expires', 'X-Amz-SignedHeaders', 'X-Amz-Signature', 'X-Amz-Security-Token']);
const REQUIRED = ['Action', 'Version', 'X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Date', 'X-Amz-Expires', 'X-Amz-SignedHeaders', 'X-Amz-Signature'];

export interface CheckedProof {
  url: string;
  /** When the client signed it (X-Amz-Date). */
  signedAt: Date;
}

/**
 * Checks a presigned GetCallerIdentity URL before anything is sent: an https STS endpoint,
 * exactly that action and SigV4's query parameters, the binding header among the signed
 * ones, and fresh. Throws IdentityNotVerified naming what is wrong.
 */
export function checkPresignedUrl(raw: unknown, now: Date): CheckedProof {
  const refuse = (why: string): never => {
    throw new IdentityNotVerified(`identity.getCallerIdentityUrl ${why}; sign the decision with "tagflow approve", which presigns it with your AWS credentials`);
  };
  if (typeof raw !== 'string' || raw.length > 8192) return refuse('is missing or not a URL string');
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return refuse('is not a URL');
  }
  if (url.protocol !== 'https:' || url.username || url.password || url.port || url.hash) refuse('must be a plain https URL');
  if (!STS_HOST.test(url.hostname)) refuse(`must be an AWS STS endpoint (sts.amazonaws.com or sts.REGION.amazonaws.com), not ${url.hostname}`);
  if (url.pathname !== '/') refuse('must have the path /');
  const keys = [...url.searchParams.keys()];
  const unknown = keys.filter((k) => !PARAMS.has(k));
  if (unknown.length) refuse(`has parameters a presigned GetCallerIdentity does not: ${unknown.join(', ')}`);
  if (new Set(keys).size !== keys.length) refuse('repeats a parameter');
  const missing = REQUIRED.filter((k) => !url.searchParams.has(k));
  if (missing.length) refuse(`is not presigned (missing ${missing.join(', ')})`);
  const p = (k: string) => url.searchParams.get(k)!;
  if (p('Action') !== 'GetCallerIdentity' || p('Version') !== '2011-06-15') refuse('must call Action=GetCallerIdentity&Version=2011-06-15');
  if (p('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256') refuse('must be signed with AWS4-HMAC-SHA256');
  const signed = p('X-Amz-SignedHeaders').split(';');
  if (!signed.includes('host') || !signed.includes(BINDING_HEADER)) refuse(`must sign the headers host and ${BINDING_HEADER} (it signs ${signed.join(', ')})`);
  const date = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(p('X-Amz-Date'));
  if (!date) return refuse('has a malformed X-Amz-Date');
  const signedAt = new Date(Date.UTC(+date[1]!, +date[2]! - 1, +date[3]!, +date[4]!, +date[5]!, +date[6]!));
  const expires = Number(p('X-Amz-Expires'));
  if (!Number.isInteger(expires) || expires < 1 || expires > MAX_AGE_SECONDS) refuse(`must expire within ${MAX_AGE_SECONDS} s (X-Amz-Expires ${p('X-Amz-Expires')})`);
  const age = (now.getTime() - signedAt.getTime()) / 1000;
  if (age > Math.min(expires, MAX_AGE_SECONDS)) refuse(`was signed at ${signedAt.toISOString()}, ${Math.round(age)} s ago: it has expired`);
  if (age < -CLOCK_SKEW_SECONDS) refuse(`is dated ${signedAt.toISOString()}, in the future: check your clock`);
  return { url: url.toString(), signedAt };
}
