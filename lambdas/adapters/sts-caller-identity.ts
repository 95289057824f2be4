import { BINDING_HEADER } from '../lib/approval-proof.js';
import { DependencyUnavailable, IdentityNotVerified } from '../lib/errors.js';
import type { CallerIdentity, IdentityVerifier } from '../lib/ports.js';

/** What the verifier sends requests with: the platform's fetch, or a test's stand-in for STS. */
export type Fetch = (url: string, init: { method: 'GET'; headers: Record<string, string>; redirect: 'error'; signal: AbortSignal }) => Promise<{ status: number; text(): Promise<string> }>;

/** `<Tag>value</Tag>` of STS's XML answer (a fixed, flat shape: GetCallerIdentityResult or Error). */
const element = (xml: string, tag: string): string | undefined => new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(xml)?.[1];

/**
 * Sends an approver's presigned `sts:GetCallerIdentity` (already checked by
 * `checkPresignedUrl`: an STS endpoint) with the binding header the signature must cover, and
 * returns who STS says signed it. STS refusing it (a bad or altered signature, another
 * decision's binding, expired credentials) is IdentityNotVerified; STS unreachable is
 * DependencyUnavailable, so the approver can simply send it again.
 */
export class StsCallerIdentity implements IdentityVerifier {
  constructor(
    private readonly fetchFn: Fetch = fetch as unknown as Fetch,
    private readonly timeoutMs = 5000,
  ) {}

  async callerOf(presignedUrl: string, binding: string): Promise<CallerIdentity> {
    let status: number;
    let body: string;
    try {
      const res = await this.fetchFn(presignedUrl, { method: 'GET', headers: { [BINDING_HEADER]: binding }, redirect: 'error', signal: AbortSignal.timeout(this.timeoutMs) });
      status = res.status;
      body = await res.text();
    } catch (err) {
      throw new DependencyUnavailable(`STS could not be reached to verify the approver (${(err as Error).message}); send the decision again`);
    }
    if (status >= 500) throw new DependencyUnavailable(`STS answered ${status} while verifying the approver; send the decision again`);
    if (status !== 200) {
      const code = element(body, 'Code') ?? `HTTP ${status}`;
      const message = element(body, 'Message') ?? '';
      throw new IdentityNotVerified(`STS refused the signed identity (${code}${message ? `: ${message}` : ''}): it was signed for another decision, altered, expired, or with invalid credentials`);
    }
    const arn = element(body, 'Arn');
    const account = element(body, 'Account');
    const userId = element(body, 'UserId');
    if (!arn || !account || !userId) throw new IdentityNotVerified('STS answered without Arn, Account and UserId');
    return { arn, account, userId };
  }
}
