import { describe, expect, it } from 'vitest';
import { StsCallerIdentity } from '../../lambdas/adapters/sts-caller-identity.js';
import { handleApprovalRequest } from '../../lambdas/lib/approval-http.js';
import { bindingOf, checkPresignedUrl } from '../../lambdas/lib/approval-proof.js';
import { matchApprover, parsePrincipal } from '../../lambdas/lib/approver-principal.js';
import { signDecision } from '../../local/cli/approval-signing.js';
import { approvalFixture } from '../support/approval-fixture.js';
import { FakeSts, type FakeKey } from '../support/fake-sts.js';

/**
 * The two-person rule against one person acting alone: who approves is what STS says signed a
 * presigned GetCallerIdentity bound to the decision, matched exactly against principal ARNs.
 * STS here verifies SigV4 signatures for real (test/support/fake-sts.ts).
 */

const ACCOUNT = '111122223333';
const ALICE = `arn:aws:iam::${ACCOUNT}:user/alice`;
const BOB = `arn:aws:sts::${ACCOUNT}:assumed-role/AWSReservedSSO_Approvers_0123456789abcdef/bob@acme.io`;
const CAROL = `arn:aws:iam::${ACCOUNT}:user/carol`;
const NOW = '2026-12-22T10:00:00Z';

const key = (id: string, arn: string): FakeKey => ({ accessKeyId: `AKIA${id.toUpperCase().padEnd(16, 'X')}`, secretAccessKey: `secret-of-${id}`, sessionToken: arn.includes(':sts:') ? `token-of-${id}` : undefined, arn } as FakeKey);
const KEYS = {
  alice: key('alice', ALICE),
  bob: key('bob', BOB),
  // Alice again, through a role whose session name she chose.
  aliceAsBob: key('aliceasbob', `arn:aws:sts::${ACCOUNT}:assumed-role/AnyRole/bob`),
  // Alice again, as a federated user she named bob.
  federatedBob: key('fedbob', `arn:aws:sts::${ACCOUNT}:federated-user/bob`),
  // Someone in another account whose user is called carol.
  foreignCarol: key('foreigncarol', 'arn:aws:iam::999999999999:user/carol'),
};

function setup() {
  const t = approvalFixture({ approvers: [ALICE, BOB, CAROL], now: NOW });
  const sts = new FakeSts(Object.values(KEYS));
  const deps = { ...t.deps, identity: new StsCallerIdentity(sts.fetch) };
  const target = { service: 'api', version: 'v1.2.3', environment: 'prod' };
  /** What `tagflow approve` sends, signed with `who`'s credentials, as Lambda hands it to the function. */
  const send = async (who: FakeKey, opts: { decision?: string; urlSigner?: string | null; body?: (b: Record<string, unknown>) => Record<string, unknown>; signedAt?: string } = {}) => {
    const decision = { ...target, decision: opts.decision ?? 'approve' };
    const creds = { accessKeyId: who.accessKeyId, secretAccessKey: who.secretAccessKey, ...(who.sessionToken ? { sessionToken: who.sessionToken } : {}) };
    const signed = await signDecision('https://abc123.lambda-url.eu-west-1.on.aws/', decision, creds, 'eu-west-1', new Date(opts.signedAt ?? NOW));
    const body = JSON.stringify((opts.body ?? ((b) => b))(JSON.parse(signed.body)));
    return handleApprovalRequest({ urlSignerArn: opts.urlSigner === null ? undefined : (opts.urlSigner ?? who.arn), account: ACCOUNT, body }, deps);
  };
  return { ...t, sts, deps, send };
}

describe('approving through the function URL with a signed identity', () => {
  it('approves as the principals STS verified: an IAM user and an IAM Identity Center session', async () => {
    const t = setup();
    await t.requestIt();
    expect(await t.send(KEYS.alice)).toMatchObject({ status: 200, body: { outcome: { status: 'pending', approvers: [ALICE] }, message: expect.stringContaining('1/2 approvals (alice); waiting for 1 more from bob@acme.io, carol') } });
    expect(await t.send(KEYS.bob)).toMatchObject({ status: 200, body: { outcome: { status: 'approved', approvers: [ALICE, BOB] } } });
    expect(t.sent).toEqual([expect.objectContaining({ kind: 'succeed', token: 'token-1' })]);
    expect((await t.approvals.get(t.target))!.approvals.map((a) => a.approver)).toEqual([ALICE, BOB]);
    expect(t.decisions.at(-1)!.summary).toBe('the emergency release of api v1.2.3 into prod approved by alice and bob@acme.io');
    // STS got exactly the binding of the decision each one signed.
    expect(t.sts.calls.map((c) => c.headers['x-tagflow-approval'])).toEqual([bindingOf({ ...t.target, decision: 'approve' }), bindingOf({ ...t.target, decision: 'approve' })]);
  });

  it('bypass 1: the same person as an IAM user and as a role session she named "bob" counts once', async () => {
    const t = setup();
    await t.requestIt();
    await t.send(KEYS.alice);
    const res = await t.send(KEYS.aliceAsBob);
    expect(res).toMatchObject({ status: 403, body: { error: 'ApproverNotAllowed', message: expect.stringContaining('chosen by whoever assumes the role') } });
    expect(await t.approvals.get(t.target)).toMatchObject({ status: 'pending', approvals: [{ approver: ALICE }] });
    expect(t.sent).toEqual([]);
  });

  it('bypass 2: a federated user named bob and a user called carol in another account are refused', async () => {
    const t = setup();
    await t.requestIt();
    await t.send(KEYS.alice);
    expect(await t.send(KEYS.federatedBob)).toMatchObject({ status: 403, body: { error: 'ApproverNotAllowed', message: expect.stringContaining('federated user') } });
    expect(await t.send(KEYS.foreignCarol)).toMatchObject({ status: 403, body: { error: 'ApproverNotAllowed', message: expect.stringContaining('belongs to account 999999999999') } });
    expect((await t.approvals.get(t.target))!.approvals).toHaveLength(1);
    expect(t.sent).toEqual([]);
  });

  it('bypass 3: a direct invoke with a made-up requestContext identity approves nothing', async () => {
    const t = setup();
    await t.requestIt();
    await t.send(KEYS.alice);
    const plain = JSON.stringify({ ...t.target, decision: 'approve' });
    // No proof at all, whatever the event claims.
    expect(await handleApprovalRequest({ urlSignerArn: BOB, account: ACCOUNT, body: plain }, t.deps)).toMatchObject({ status: 403, body: { error: 'IdentityNotVerified' } });
    // Alice's real proof under bob's name in the event.
    expect(await t.send(KEYS.alice, { urlSigner: BOB })).toMatchObject({ status: 403, body: { error: 'IdentityNotVerified', message: expect.stringContaining(`signed by ${ALICE}`) } });
    // An approver named in the body.
    expect(await t.send(KEYS.alice, { body: (b) => ({ ...b, approver: BOB }) })).toMatchObject({ status: 400, body: { error: 'InvalidInput' } });
    // A proof that points at a server of the caller's choosing is never fetched.
    const fake = await t.send(KEYS.alice, { body: (b) => ({ ...b, identity: { getCallerIdentityUrl: String((b.identity as { getCallerIdentityUrl: string }).getCallerIdentityUrl).replace('sts.eu-west-1.amazonaws.com', 'sts.eu-west-1.amazonaws.com.evil.example') } }) });
    expect(fake).toMatchObject({ status: 403, body: { error: 'IdentityNotVerified', message: expect.stringContaining('must be an AWS STS endpoint') } });
    expect(t.sts.calls).toHaveLength(2);
    expect((await t.approvals.get(t.target))!.approvals).toHaveLength(1);
    expect(t.sent).toEqual([]);
  });

  it('a proof signed for one decision is refused by STS for another, and a stale one before it is sent', async () => {
    const t = setup();
    await t.requestIt();
    // Bob signs "reject"; the body is changed to "approve": the binding no longer matches the signature.
    const swapped = await t.send(KEYS.bob, { decision: 'reject', body: (b) => ({ ...b, decision: 'approve' }) });
    expect(swapped).toMatchObject({ status: 403, body: { error: 'IdentityNotVerified', message: expect.stringContaining('SignatureDoesNotMatch') } });
    const otherVersion = await t.send(KEYS.bob, { body: (b) => ({ ...b, version: 'v9.9.9' }) });
    expect(otherVersion).toMatchObject({ status: 403, body: { error: 'IdentityNotVerified' } });
    const stale = await t.send(KEYS.bob, { signedAt: '2026-12-22T09:50:00Z' });
    expect(stale).toMatchObject({ status: 403, body: { error: 'IdentityNotVerified', message: expect.stringContaining('expired') } });
    expect(t.sts.calls).toHaveLength(2);
    expect((await t.approvals.get(t.target))!.approvals).toEqual([]);
  });

  it('refuses a proof signed before the request it would decide', async () => {
    const t = setup();
    await t.requestIt(); // requested at 09:59:00
    expect(await t.send(KEYS.alice, { signedAt: '2026-12-22T09:58:30Z' })).toMatchObject({ status: 403, body: { error: 'IdentityNotVerified', message: expect.stringContaining('before the emergency release') } });
  });

  it('works without AWS_IAM auth on the URL (the proof alone decides) and answers 409 once decided', async () => {
    const t = setup();
    await t.requestIt();
    expect(await t.send(KEYS.alice, { urlSigner: null })).toMatchObject({ status: 200 });
    expect(await t.send(KEYS.bob, { urlSigner: null })).toMatchObject({ status: 200, body: { outcome: { status: 'approved' } } });
    expect(await t.send(KEYS.alice)).toMatchObject({ status: 409, body: { error: 'ApprovalNotPending' } });
  });

  it('answers 503 when STS cannot be reached, so the approver sends it again', async () => {
    const t = setup();
    await t.requestIt();
    const deps = { ...t.deps, identity: new StsCallerIdentity(async () => { throw new TypeError('fetch failed'); }) };
    const signed = await signDecision('https://abc123.lambda-url.eu-west-1.on.aws/', { ...t.target, decision: 'approve' }, KEYS.alice, 'eu-west-1', new Date(NOW));
    expect(await handleApprovalRequest({ urlSignerArn: ALICE, account: ACCOUNT, body: signed.body }, deps)).toMatchObject({ status: 503, body: { error: 'DependencyUnavailable' } });
  });
});

describe('approver principals', () => {
  it('parse IAM users and IAM Identity Center sessions, and refuse what anyone can name', () => {
    expect(parsePrincipal(ALICE)).toMatchObject({ kind: 'iam-user', account: ACCOUNT, name: 'alice' });
    expect(parsePrincipal(`arn:aws:iam::${ACCOUNT}:user/ops/alice`)).toMatchObject({ kind: 'iam-user', name: 'alice' });
    expect(parsePrincipal(BOB)).toMatchObject({ kind: 'sso-session', role: 'AWSReservedSSO_Approvers_0123456789abcdef', name: 'bob@acme.io' });
    expect(parsePrincipal('alice')).toMatchObject({ kind: 'local-name' });
    expect(() => parsePrincipal(`arn:aws:sts::${ACCOUNT}:assumed-role/Admin/alice`)).toThrow(/chosen by whoever assumes the role/);
    expect(() => parsePrincipal(`arn:aws:sts::${ACCOUNT}:federated-user/alice`)).toThrow(/federated user/);
    expect(() => parsePrincipal(`arn:aws:iam::${ACCOUNT}:root`)).toThrow(/account root/);
    expect(() => parsePrincipal(`arn:aws:iam::${ACCOUNT}:role/Admin`)).toThrow(/name the session instead/);
  });

  it('match a verified caller only by the whole principal, in the pipeline\'s account', () => {
    expect(matchApprover(ALICE, [ALICE], ACCOUNT)).toMatchObject({ ok: true });
    expect(matchApprover(`arn:aws:iam::${ACCOUNT}:user/ops/alice`, [ALICE], ACCOUNT)).toMatchObject({ ok: false });
    expect(matchApprover(ALICE, ['alice'], ACCOUNT)).toMatchObject({ ok: false, reason: expect.stringContaining('not in policy.approvers') });
    expect(matchApprover('arn:aws:iam::999999999999:user/alice', ['arn:aws:iam::999999999999:user/alice'], ACCOUNT)).toMatchObject({ ok: false, reason: expect.stringContaining('belongs to account') });
  });
});

describe('presigned proofs', () => {
  const now = new Date(NOW);
  const good = async () => (JSON.parse((await signDecision('https://x.lambda-url.us-east-1.on.aws/', { service: 'api', version: 'v1', environment: 'prod', decision: 'approve' }, KEYS.alice, 'us-east-1', now)).body) as { identity: { getCallerIdentityUrl: string } }).identity.getCallerIdentityUrl;

  it('are accepted only as a fresh GetCallerIdentity to an STS endpoint that signs the binding header', async () => {
    const url = await good();
    expect(checkPresignedUrl(url, now).signedAt.toISOString()).toBe('2026-12-22T10:00:00.000Z');
    const edit = (f: (u: URL) => void) => {
      const u = new URL(url);
      f(u);
      return () => checkPresignedUrl(u.toString(), now);
    };
    expect(edit((u) => (u.protocol = 'http:'))).toThrow(/https/);
    expect(edit((u) => (u.hostname = 'sts.amazonaws.com.attacker.example'))).toThrow(/STS endpoint/);
    expect(edit((u) => u.searchParams.set('Action', 'AssumeRole'))).toThrow(/GetCallerIdentity/);
    expect(edit((u) => u.searchParams.set('X-Amz-SignedHeaders', 'host'))).toThrow(/x-tagflow-approval/);
    expect(edit((u) => u.searchParams.set('X-Amz-Expires', '3600'))).toThrow(/expire within/);
    expect(edit((u) => u.searchParams.append('RoleArn', 'x'))).toThrow(/parameters/);
    expect(() => checkPresignedUrl(url, new Date(Date.parse(NOW) + 301_000))).toThrow(/expired/);
    expect(() => checkPresignedUrl(url, new Date(Date.parse(NOW) - 120_000))).toThrow(/in the future/);
    expect(() => checkPresignedUrl(undefined, now)).toThrow(/tagflow approve/);
  });
});
