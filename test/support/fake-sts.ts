import { Sha256 } from '@smithy/core/checksum';
import { HttpRequest } from '@smithy/core/protocols';
import { SignatureV4 } from '@smithy/signature-v4';
import type { Fetch } from '../../lambdas/adapters/sts-caller-identity.js';

/**
 * STS's GetCallerIdentity as AWS answers it, for tests: it verifies the SigV4 query signature
 * for real (recomputes it with the secret of the access key the credential names, over the
 * headers the signature says it signed, as received) and answers the key's principal in STS's
 * XML, or STS's error document. A signature made for another binding, or with another secret,
 * or altered in any way, is refused as STS would refuse it.
 */

export interface FakeKey {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  arn: string;
}

const ok = (k: FakeKey) => {
  const account = k.arn.split(':')[4];
  return `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <GetCallerIdentityResult>
    <Arn>${k.arn}</Arn>
    <UserId>AIDA${k.accessKeyId.slice(-8)}:session</UserId>
    <Account>${account}</Account>
  </GetCallerIdentityResult>
  <ResponseMetadata><RequestId>01234567-89ab-cdef-0123-456789abcdef</RequestId></ResponseMetadata>
</GetCallerIdentityResponse>`;
};

const error = (code: string, message: string) => `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error>
  <RequestId>01234567-89ab-cdef-0123-456789abcdef</RequestId>
</ErrorResponse>`;

export class FakeSts {
  readonly calls: { url: string; headers: Record<string, string> }[] = [];
  private readonly keys = new Map<string, FakeKey>();

  constructor(keys: FakeKey[]) {
    for (const k of keys) this.keys.set(k.accessKeyId, k);
  }

  /** A `fetch` for StsCallerIdentity that answers as STS. */
  readonly fetch: Fetch = async (raw, init) => {
    this.calls.push({ url: raw, headers: init.headers });
    const answer = (status: number, text: string) => ({ status, text: async () => text });
    const url = new URL(raw);
    const q = Object.fromEntries(url.searchParams);
    const [akid, date, region, service] = (q['X-Amz-Credential'] ?? '').split('/');
    const key = this.keys.get(akid ?? '');
    if (!key) return answer(403, error('InvalidClientTokenId', 'The security token included in the request is invalid.'));
    if (key.sessionToken !== q['X-Amz-Security-Token']) return answer(403, error('InvalidClientTokenId', 'The security token included in the request is invalid.'));
    const signedHeaders = (q['X-Amz-SignedHeaders'] ?? '').split(';');
    const received: Record<string, string> = { host: url.host };
    for (const [k, v] of Object.entries(init.headers)) received[k.toLowerCase()] = v;
    const headers: Record<string, string> = {};
    for (const h of signedHeaders) if (received[h] !== undefined) headers[h] = received[h]!;
    const amzDate = q['X-Amz-Date'] ?? '';
    const signingDate = new Date(`${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`);
    if (date !== amzDate.slice(0, 8) || service !== 'sts' || !region) return answer(403, error('SignatureDoesNotMatch', 'Credential should be scoped to a valid region.'));
    const query: Record<string, string> = {};
    for (const [k, v] of Object.entries(q)) if (!k.startsWith('X-Amz-')) query[k] = v;
    const signer = new SignatureV4({ service: 'sts', region, sha256: Sha256, credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey, ...(key.sessionToken ? { sessionToken: key.sessionToken } : {}) } });
    const expected = await signer.presign(new HttpRequest({ method: 'GET', protocol: 'https:', hostname: url.hostname, path: url.pathname, query, headers }), {
      signingDate,
      expiresIn: Number(q['X-Amz-Expires']),
    });
    const signedAgain = (expected.query?.['X-Amz-SignedHeaders'] as string | undefined) ?? '';
    if (signedAgain !== q['X-Amz-SignedHeaders'] || expected.query?.['X-Amz-Signature'] !== q['X-Amz-Signature']) {
      return answer(403, error('SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.'));
    }
    return answer(200, ok(key));
  };
}
