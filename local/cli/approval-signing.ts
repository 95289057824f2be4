import { Sha256 } from '@smithy/core/checksum';
import { HttpRequest } from '@smithy/core/protocols';
import { SignatureV4 } from '@smithy/signature-v4';
import { BINDING_HEADER, bindingOf, MAX_AGE_SECONDS, type DecisionBinding } from '../../lambdas/lib/approval-proof.js';

/**
 * The approver's side of approval-proof.ts: presigns `sts:GetCallerIdentity` with the
 * approver's own credentials and the binding header for exactly this decision, and signs the
 * POST to the approval function URL (AWS_IAM auth) with the same credentials. The AWS SDK's
 * own SigV4 signer does both.
 */

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface SignedDecision {
  url: string;
  headers: Record<string, string>;
  body: string;
}

const stsHost = (region: string) => (region.startsWith('cn-') ? `sts.${region}.amazonaws.com.cn` : `sts.${region}.amazonaws.com`);

/** A presigned GetCallerIdentity URL whose signature covers `x-tagflow-approval: bindingOf(decision)`. */
export async function presignIdentity(decision: DecisionBinding, credentials: Credentials, region: string, now = new Date()): Promise<string> {
  return presignBinding(bindingOf(decision), credentials, region, now);
}

/** A presigned GetCallerIdentity URL whose signature covers `x-tagflow-approval: <binding>` (an approval's or a freeze's). */
export async function presignBinding(binding: string, credentials: Credentials, region: string, now = new Date()): Promise<string> {
  const host = stsHost(region);
  const signer = new SignatureV4({ service: 'sts', region, sha256: Sha256, credentials });
  const request = new HttpRequest({
    method: 'GET',
    protocol: 'https:',
    hostname: host,
    path: '/',
    query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
    headers: { host, [BINDING_HEADER]: binding },
  });
  const signed = await signer.presign(request, { expiresIn: MAX_AGE_SECONDS, signingDate: now });
  const url = new URL(`https://${host}/`);
  for (const [k, v] of Object.entries(signed.query ?? {})) url.searchParams.set(k, String(v));
  return url.toString();
}

/** The decision's body with its identity proof, and the POST signed for the function URL (service `lambda`). */
export async function signDecision(approvalUrl: string, decision: DecisionBinding, credentials: Credentials, region: string, now = new Date()): Promise<SignedDecision> {
  return signBody(approvalUrl, { ...decision }, bindingOf(decision), credentials, region, now);
}

/** Any request to the approval URL (a decision, a freeze): the body with the identity proof for `binding`, and the POST signed for the URL. */
export async function signBody(approvalUrl: string, fields: Record<string, unknown>, binding: string, credentials: Credentials, region: string, now = new Date()): Promise<SignedDecision> {
  const body = JSON.stringify({ ...fields, identity: { getCallerIdentityUrl: await presignBinding(binding, credentials, region, now) } });
  const url = new URL(approvalUrl);
  // The function URL's region is in its host: <id>.lambda-url.<region>.on.aws
  const urlRegion = /\.lambda-url\.([a-z0-9-]+)\.on\.aws$/.exec(url.hostname)?.[1] ?? region;
  const signer = new SignatureV4({ service: 'lambda', region: urlRegion, sha256: Sha256, credentials });
  const signed = await signer.sign(
    new HttpRequest({
      method: 'POST',
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      path: url.pathname,
      headers: { host: url.host, 'content-type': 'application/json' },
      body,
    }),
    { signingDate: now },
  );
  return { url: url.toString(), headers: signed.headers as Record<string, string>, body };
}
