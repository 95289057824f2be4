import { describe, expect, it } from 'vitest';
import { StsCallerIdentity } from '../../lambdas/adapters/sts-caller-identity.js';
import { handleApprovalRequest } from '../../lambdas/lib/approval-http.js';
import { approvalUrlProblem, approve } from '../../local/cli/approve.js';
import { main } from '../../local/cli/main.js';
import { approvalFixture } from '../support/approval-fixture.js';
import { FakeSts, type FakeKey } from '../support/fake-sts.js';

/** `tagflow approve`: what the CLI signs reaches the approval function's core and decides as the signer. */

const ACCOUNT = '111122223333';
const ALICE: FakeKey = { accessKeyId: 'AKIAALICEXXXXXXXXXXX', secretAccessKey: 'alice-secret', arn: `arn:aws:iam::${ACCOUNT}:user/alice` };
const BOB: FakeKey = { accessKeyId: 'ASIABOBXXXXXXXXXXXXX', secretAccessKey: 'bob-secret', sessionToken: 'bob-token', arn: `arn:aws:sts::${ACCOUNT}:assumed-role/AWSReservedSSO_Approvers_0123456789abcdef/bob@acme.io` };
const URL = 'https://abcdefghijklmnop.lambda-url.eu-west-1.on.aws/';
const NOW = new Date('2026-12-22T10:00:00Z');

function setup() {
  const t = approvalFixture({ approvers: [ALICE.arn, BOB.arn], now: NOW.toISOString() });
  const sts = new FakeSts([ALICE, BOB]);
  const deps = { ...t.deps, identity: new StsCallerIdentity(sts.fetch) };
  const posted: { url: string; headers: Record<string, string> }[] = [];
  /** The function URL: AWS_IAM auth has checked the POST's signature; the function sees the body. */
  const as = (who: FakeKey) => ({
    credentials: async () => who,
    now: () => NOW,
    post: async (url: string, init: { headers: Record<string, string>; body: string }) => {
      posted.push({ url, headers: init.headers });
      const res = await handleApprovalRequest({ urlSignerArn: who.arn, account: ACCOUNT, body: init.body }, deps);
      return { status: res.status, text: async () => JSON.stringify(res.body) };
    },
  });
  return { ...t, as, posted };
}

describe('tagflow approve', () => {
  const target = { service: 'api', version: 'v1.2.3', environment: 'prod' };

  it('signs with the approver\'s credentials: two approvers approve the emergency', async () => {
    const t = setup();
    await t.requestIt();
    expect(await approve({ ...target, decision: 'approve', url: URL }, t.as(ALICE))).toEqual({ ok: true, status: 200, message: expect.stringContaining('1/2 approvals (alice)') });
    expect(await approve({ ...target, decision: 'approve', url: URL }, t.as(BOB))).toMatchObject({ ok: true, message: 'the emergency release of api v1.2.3 into prod approved by alice and bob@acme.io' });
    // The POST is SigV4-signed for the function URL (service lambda, the URL's region).
    expect(t.posted[0]!.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIAALICEXXXXXXXXXXX\/20261222\/eu-west-1\/lambda\/aws4_request, SignedHeaders=[^,]*host/);
    expect(t.posted[1]!.headers['x-amz-security-token']).toBe('bob-token');
  });

  it('reports a refusal with its status and reason, and a rejection with the comment', async () => {
    const t = setup();
    await t.requestIt();
    const stranger: FakeKey = { accessKeyId: 'AKIAMALLORYXXXXXXXXX', secretAccessKey: 'm', arn: `arn:aws:iam::${ACCOUNT}:user/mallory` };
    const refused = await approve({ ...target, decision: 'approve', url: URL }, { ...t.as(stranger), credentials: async () => stranger });
    expect(refused).toMatchObject({ ok: false, status: 403, message: expect.stringContaining('IdentityNotVerified') });
    expect(await approve({ ...target, decision: 'reject', comment: 'not now', url: URL }, t.as(BOB))).toMatchObject({ ok: true, message: expect.stringContaining('bob@acme.io rejected the emergency release of api v1.2.3 into prod at 2026-12-22T10:00:00.000Z: not now') });
  });

  it('says what to do without credentials, and refuses bad arguments with exit code 2 before signing anything', async () => {
    const t = setup();
    await expect(approve({ ...target, decision: 'approve', url: URL }, { ...t.as(ALICE), credentials: async () => { throw new Error('Could not load credentials from any providers'); } })).rejects.toThrow(/sign in as yourself first/);
    expect(approvalUrlProblem('http://x.lambda-url.eu-west-1.on.aws/')).toContain('must be https');
    expect(approvalUrlProblem('nope')).toContain('is not a URL');
    await expect(main(['approve', '--service', 'api', '--version', 'v1', '--environment', 'prod', '--decision', 'ship'])).rejects.toThrow(/--decision must be one of approve, reject, promote, rollback/);
    const saved = process.env.TAGFLOW_APPROVAL_URL;
    delete process.env.TAGFLOW_APPROVAL_URL;
    try {
      await expect(main(['approve', '--service', 'api', '--version', 'v1', '--environment', 'prod'])).rejects.toThrow(/--url is required/);
    } finally {
      if (saved !== undefined) process.env.TAGFLOW_APPROVAL_URL = saved;
    }
  });
});
