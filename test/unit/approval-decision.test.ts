import { describe, expect, it } from 'vitest';
import { ApprovalExpired } from '../../lambdas/lib/errors.js';
import { approvalFixture as setup } from '../support/approval-fixture.js';

/** The decision core with an in-memory request store and task tokens that record what they were sent. */

describe('emergency approval decisions', () => {
  it('succeed the waiting task at two different approvers, with their names', async () => {
    const t = setup();
    await t.requestIt();
    expect(await t.decideAs('alice')).toMatchObject({ status: 'pending', approvers: ['alice'], needed: 2 });
    expect(t.sent).toEqual([]);
    expect(await t.decideAs('carol')).toMatchObject({ status: 'approved', approvers: ['alice', 'carol'] });
    expect(t.sent).toEqual([{ kind: 'succeed', token: 'token-1', output: expect.objectContaining({ approvers: ['alice', 'carol'] }) }]);
    expect((await t.approvals.get(t.target))!.approvals).toEqual([
      { approver: 'alice', at: '2026-12-22T10:00:00.000Z' },
      { approver: 'carol', at: '2026-12-22T10:00:00.000Z' },
    ]);
    expect(t.decisions.map((d) => [d.step, d.verdict])).toEqual([['approval', 'waiting'], ['approval', 'waiting'], ['approval', 'passed']]);
  });

  it('count the same approver once, however often they approve', async () => {
    const t = setup();
    await t.requestIt();
    await t.decideAs('alice');
    const again = await t.decideAs('alice');
    expect(again).toMatchObject({ status: 'pending', approvers: ['alice'] });
    expect(again.message).toContain('waiting for 1 more from bob, carol');
    expect(t.sent).toEqual([]);
    expect(t.decisions.at(-1)!.summary).toContain('approved the emergency release of api v1.2.3 into prod again; an approver counts once (1/2)');
  });

  it('refuse an approver not in policy.approvers, changing nothing', async () => {
    const t = setup();
    await t.requestIt();
    await expect(t.decideAs('mallory')).rejects.toMatchObject({ name: 'ApproverNotAllowed', message: expect.stringContaining('policy.approvers lists alice, bob, carol') });
    expect((await t.approvals.get(t.target))!.approvals).toEqual([]);
    expect(t.decisions).toEqual([]);
  });

  it('fail the waiting task with ApprovalRejected on one reject, saying who and why', async () => {
    const t = setup();
    await t.requestIt();
    await t.decideAs('alice');
    const outcome = await t.decideAs('bob', 'reject', 'wait for the fix');
    expect(outcome.status).toBe('rejected');
    expect(t.sent).toEqual([{ kind: 'fail', token: 'token-1', error: 'ApprovalRejected', cause: 'bob rejected the emergency release of api v1.2.3 into prod at 2026-12-22T10:00:00.000Z: wait for the fix' }]);
    expect(await t.approvals.get(t.target)).toMatchObject({ status: 'rejected', rejectedBy: { approver: 'bob', comment: 'wait for the fix' } });
    // Decided is decided.
    await expect(t.decideAs('carol')).rejects.toMatchObject({ name: 'ApprovalNotPending' });
  });

  it('refuse a decision when nothing waits', async () => {
    const t = setup();
    await expect(t.decideAs('alice')).rejects.toMatchObject({ name: 'ApprovalNotPending', message: 'no approval was requested for the emergency release of api v1.2.3 into prod' });
  });

  it('mark the request expired when the task no longer waits', async () => {
    const t = setup({ tokens: { succeed: async () => { throw new ApprovalExpired('gone'); } } });
    await t.requestIt();
    await t.decideAs('alice');
    await expect(t.decideAs('bob')).rejects.toMatchObject({ name: 'ApprovalExpired' });
    expect((await t.approvals.get(t.target))!.status).toBe('expired');
  });

  it('put the request back to pending when sending fails for another reason, so it can be sent again', async () => {
    let fail = true;
    const t = setup({ tokens: { succeed: async () => { if (fail) throw new Error('throttled'); } } });
    await t.requestIt();
    await t.decideAs('alice');
    await expect(t.decideAs('bob')).rejects.toThrow('throttled');
    expect((await t.approvals.get(t.target))!.status).toBe('pending');
    fail = false;
    expect(await t.decideAs('bob')).toMatchObject({ status: 'approved' });
  });
});

describe('canary hold decisions', () => {
  const hold = { service: 'api', version: 'v1.2.3', environment: 'prod', kind: 'canary-hold' as const };

  it('promote at one decision from any approver, succeeding the waiting task with who decided', async () => {
    const t = setup();
    await t.holdIt();
    expect(await t.decideAs('carol', 'promote')).toMatchObject({ kind: 'canary-hold', status: 'approved', approvers: ['carol'], needed: 1 });
    expect(t.sent).toEqual([{ kind: 'succeed', token: 'hold-token-1', output: expect.objectContaining({ kind: 'canary-hold', decision: 'promote', approvers: ['carol'] }) }]);
    expect(t.decisions.map((d) => [d.step, d.verdict, d.summary])).toEqual([['approval', 'passed', 'carol promoted the held canary of api v1.2.3 in prod at 2026-12-22T10:00:00.000Z']]);
    expect(await t.approvals.get(hold)).toMatchObject({ status: 'approved', approvals: [{ approver: 'carol', at: '2026-12-22T10:00:00.000Z' }] });
    // Decided is decided.
    await expect(t.decideAs('alice', 'rollback')).rejects.toMatchObject({ name: 'ApprovalNotPending', message: expect.stringContaining('the held canary of api v1.2.3 in prod is approved already') });
  });

  it('roll back on one rollback, failing the waiting task with CanaryRejected naming the approver', async () => {
    const t = setup();
    await t.holdIt();
    expect(await t.decideAs('bob', 'rollback', 'latency looks off')).toMatchObject({ kind: 'canary-hold', status: 'rejected' });
    expect(t.sent).toEqual([{ kind: 'fail', token: 'hold-token-1', error: 'CanaryRejected', cause: 'bob rolled back the held canary of api v1.2.3 in prod at 2026-12-22T10:00:00.000Z: latency looks off' }]);
    expect(await t.approvals.get(hold)).toMatchObject({ status: 'rejected', rejectedBy: { approver: 'bob', comment: 'latency looks off' } });
  });

  it('take approve and reject as promote and rollback, deciding whichever request is pending', async () => {
    const t = setup();
    // An emergency release approved into prod earlier, whose canary is now held there.
    await t.requestIt();
    await t.decideAs('alice');
    await t.decideAs('bob');
    await t.holdIt();
    t.sent.length = 0;
    expect(await t.decideAs('carol', 'reject')).toMatchObject({ kind: 'canary-hold', status: 'rejected' });
    expect(t.sent).toEqual([expect.objectContaining({ kind: 'fail', token: 'hold-token-1', error: 'CanaryRejected' })]);
    expect((await t.approvals.get(t.target))!.status).toBe('approved');
  });

  it('refuse promote and rollback when only an emergency waits, and refuse strangers', async () => {
    const t = setup();
    await t.requestIt();
    await expect(t.decideAs('alice', 'promote')).rejects.toMatchObject({ name: 'ApprovalNotPending', message: 'no approval was requested for the held canary of api v1.2.3 in prod; "promote" decides a held canary' });
    await t.holdIt();
    await expect(t.decideAs('mallory', 'promote')).rejects.toMatchObject({ name: 'ApproverNotAllowed' });
    expect(t.sent).toEqual([]);
    expect((await t.approvals.get(t.target))!.approvals).toEqual([]);
  });

  it('start afresh when the canary is held again at a later step', async () => {
    const t = setup();
    await t.holdIt('hold-token-1');
    await t.decideAs('alice', 'promote');
    await t.holdIt('hold-token-2');
    expect(await t.approvals.get(hold)).toMatchObject({ status: 'pending', approvals: [], taskToken: 'hold-token-2' });
    expect(await t.decideAs('alice', 'promote')).toMatchObject({ status: 'approved', approvers: ['alice'] });
    expect(t.sent.map((s) => s.token)).toEqual(['hold-token-1', 'hold-token-2']);
  });
});

describe('the person who caused a release', () => {
  const ALICE = 'arn:aws:iam::111122223333:user/alice';
  const BOB = 'arn:aws:iam::111122223333:user/bob';
  const CAROL = 'arn:aws:iam::111122223333:user/carol';

  it('may not approve its emergency when they pushed its tag (GitHub sender, by githubLogins)', async () => {
    const t = setup({ approvers: [ALICE, BOB, CAROL], githubLogins: { [ALICE]: 'Alice-GH' }, initiator: { github: 'alice-gh' } });
    await t.requestIt();
    await expect(t.decideAs(ALICE)).rejects.toMatchObject({ name: 'ApproverNotAllowed', message: expect.stringContaining('alice caused this release (GitHub user alice-gh pushed its tag)') });
    await t.decideAs(BOB);
    expect(await t.decideAs(CAROL)).toMatchObject({ status: 'approved', approvers: [BOB, CAROL] });
  });

  it('may not approve it when CodeCommit says they created the tag, and may still decide a held canary', async () => {
    const t = setup({ approvers: [ALICE, BOB, CAROL], initiator: { arn: BOB } });
    await t.requestIt();
    await expect(t.decideAs(BOB)).rejects.toMatchObject({ name: 'ApproverNotAllowed' });
    expect((await t.approvals.get(t.target))!.approvals).toEqual([]);
    await t.approvals.request({ ...t.target, kind: 'canary-hold', releaseId: 'api@v1.2.3', executionId: 'exec-1', taskToken: 'h', reason: 'held', hold: { weight: 10, step: 1, evidence: {} }, requestedAt: '2026-12-22T09:59:30Z', expiresAt: '2026-12-23T09:59:30Z', initiator: { arn: BOB } }, { keepApprovals: false });
    expect(await t.decideAs(BOB, 'promote')).toMatchObject({ kind: 'canary-hold', status: 'approved' });
  });
});
