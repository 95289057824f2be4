import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../lambdas/lib/config.js';
import { verifyApproval } from '../../lambdas/lib/steps/verify-approval.js';
import type { ApprovalRequestInput } from '../../lambdas/lib/steps/request-approval.js';
import { approvalFixture } from '../support/approval-fixture.js';

/** `Verify approval`: what the ledger holds after a wait, not what the task token was sent, decides. */

const request: ApprovalRequestInput = {
  releaseId: 'api@v1.2.3',
  executionId: 'exec-1',
  release: { service: 'api', version: 'v1.2.3', trigger: { kind: 'manual' }, emergency: { reason: 'outage' } },
  environment: 'prod',
  policy: { action: 'approve' } as never,
};

describe('verifying an approval after the wait', () => {
  it('passes two distinct allowed approvers recorded for this execution', async () => {
    const t = approvalFixture();
    await t.requestIt();
    await t.decideAs('alice');
    await t.decideAs('bob');
    expect(await verifyApproval({ request }, t.deps)).toEqual({ verified: true, kind: 'emergency', approvers: ['alice', 'bob'] });
  });

  it('fails a request still pending (its token answered by hand), recording why', async () => {
    const t = approvalFixture();
    await t.requestIt();
    await t.decideAs('alice');
    await expect(verifyApproval({ request }, t.deps)).rejects.toMatchObject({ name: 'ApprovalNotVerified', message: expect.stringContaining('the request is pending, not approved; it holds 1 valid approval of the 2 it needs') });
    expect(t.decisions.at(-1)).toMatchObject({ step: 'approval', verdict: 'failed', environment: 'prod' });
  });

  it('fails when nothing was requested, or the request is another execution\'s', async () => {
    const t = approvalFixture();
    await expect(verifyApproval({ request }, t.deps)).rejects.toMatchObject({ name: 'ApprovalNotVerified', message: expect.stringContaining('no approval request is recorded') });
    await t.requestIt();
    await t.decideAs('alice');
    await t.decideAs('bob');
    await expect(verifyApproval({ request: { ...request, executionId: 'exec-2' } }, t.deps)).rejects.toMatchObject({ message: expect.stringContaining('belongs to execution exec-1') });
  });

  it('counts only approvers the policy allows now, and never the person who caused the release', async () => {
    const t = approvalFixture();
    await t.requestIt();
    await t.decideAs('alice');
    await t.decideAs('bob');
    const fewer = { ...t.deps, config: async () => parseConfig({ services: { api: { environments: [{ name: 'prod' }] } }, policy: { approvers: ['alice', 'carol'] } }) };
    await expect(verifyApproval({ request }, fewer)).rejects.toMatchObject({ message: expect.stringContaining('bob is not in policy.approvers') });

    const u = approvalFixture({ initiator: { arn: 'arn:aws:iam::111122223333:user/x' } });
    await u.requestIt();
    await u.decideAs('alice');
    await u.decideAs('bob');
    // The record says the release was caused by alice, as a GitHub login mapping would show.
    const record = (await u.approvals.get(u.target))!;
    u.approvals.records.set('api/v1.2.3/prod/emergency', { ...record, initiator: { github: 'alice-gh' } });
    const mapped = { ...u.deps, config: async () => parseConfig({ services: { api: { environments: [{ name: 'prod' }] } }, policy: { approvers: ['alice', 'bob', 'carol'], githubLogins: { alice: 'alice-gh' } } }) };
    await expect(verifyApproval({ request }, mapped)).rejects.toMatchObject({ message: expect.stringContaining('alice caused the release') });
  });

  it('passes a held canary promoted by one approver', async () => {
    const t = approvalFixture();
    await t.holdIt();
    await t.decideAs('carol', 'promote');
    const hold = { ...request, kind: 'canary-hold' as const, hold: { weight: 10 } as never };
    expect(await verifyApproval({ request: hold }, t.deps)).toMatchObject({ verified: true, kind: 'canary-hold', approvers: ['carol'] });
  });
});
