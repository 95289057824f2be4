import { describe, expect, it } from 'vitest';
import { decideApproval } from '../../lambdas/lib/approval-decision.js';
import { handleApprovalRequest } from '../../lambdas/lib/approval-http.js';
import { parseConfig } from '../../lambdas/lib/config.js';
import { ApprovalExpired } from '../../lambdas/lib/errors.js';
import { approverFromArn } from '../../lambdas/lib/iam-identity.js';
import type { ApprovalKey, ApprovalRecord, ApprovalStore, Ledger, TaskTokens } from '../../lambdas/lib/ports.js';
import type { Decision } from '../../lambdas/lib/types.js';
import { silentLogger } from '../../lambdas/adapters/json-logger.js';

/** The decision core with an in-memory request store and task tokens that record what they were sent. */

class MemoryApprovals implements ApprovalStore {
  readonly records = new Map<string, ApprovalRecord>();
  private id = (k: ApprovalKey) => `${k.service}/${k.version}/${k.environment}/${k.kind ?? 'emergency'}`;
  async request(r: Omit<ApprovalRecord, 'status' | 'approvals'>, opts = { keepApprovals: true }) {
    const before = this.records.get(this.id(r));
    const record: ApprovalRecord = { ...r, status: 'pending', approvals: opts.keepApprovals && before ? before.approvals : [] };
    this.records.set(this.id(r), record);
    return record;
  }
  async get(k: ApprovalKey) {
    const r = this.records.get(this.id(k));
    return r && structuredClone(r);
  }
  async addApproval(k: ApprovalKey, approver: string, at: string) {
    const r = this.records.get(this.id(k));
    if (!r || r.status !== 'pending' || r.approvals.some((a) => a.approver === approver)) return { added: false, record: r && structuredClone(r) };
    r.approvals.push({ approver, at });
    return { added: true, record: structuredClone(r) };
  }
  async transition(k: ApprovalKey, from: ApprovalRecord['status'], to: ApprovalRecord['status'], at: string, rejectedBy?: ApprovalRecord['rejectedBy']) {
    const r = this.records.get(this.id(k));
    if (!r || r.status !== from) return false;
    Object.assign(r, { status: to, decidedAt: at, ...(rejectedBy ? { rejectedBy } : {}) });
    return true;
  }
}

function setup(opts: { tokens?: Partial<TaskTokens> } = {}) {
  const config = parseConfig({
    services: { api: { environments: [{ name: 'prod' }] } },
    policy: { approvers: ['alice', 'bob', 'carol'], freezes: [{ name: 'f', from: '2026-12-21T00:00:00Z', to: '2027-01-04T00:00:00Z' }] },
  });
  const approvals = new MemoryApprovals();
  const sent: { kind: 'succeed' | 'fail'; token: string; output?: unknown; error?: string; cause?: string }[] = [];
  const decisions: Decision[] = [];
  const deps = {
    config: async () => config,
    approvals,
    taskTokens: {
      succeed: async (token: string, output: unknown) => void sent.push({ kind: 'succeed', token, output }),
      fail: async (token: string, error: string, cause: string) => void sent.push({ kind: 'fail', token, error, cause }),
      ...opts.tokens,
    } as TaskTokens,
    ledger: { recordDecision: async (d: Decision) => void decisions.push(d) } as unknown as Ledger,
    clock: { now: () => new Date('2026-12-22T10:00:00Z'), sleep: async () => {} },
    log: silentLogger,
  };
  const target = { service: 'api', version: 'v1.2.3', environment: 'prod' };
  const requestIt = () =>
    approvals.request({ ...target, releaseId: 'api@v1.2.3', executionId: 'exec-1', taskToken: 'token-1', reason: 'outage', closed: 'prod is closed', requestedAt: '2026-12-22T09:59:00Z', expiresAt: '2026-12-23T09:59:00Z' });
  const holdIt = (token = 'hold-token-1') =>
    approvals.request(
      { ...target, kind: 'canary-hold', releaseId: 'api@v1.2.3', executionId: 'exec-1', taskToken: token, reason: 'canary v1.2.3 still inconclusive', hold: { weight: 10, step: 1, evidence: { poll: 15 } }, requestedAt: '2026-12-22T09:59:30Z', expiresAt: '2026-12-23T09:59:30Z' },
      { keepApprovals: false },
    );
  const decideAs = (approver: string, decision: 'approve' | 'reject' | 'promote' | 'rollback' = 'approve', comment?: string) => decideApproval({ ...target, approver, decision, ...(comment ? { comment } : {}) }, deps);
  return { deps, approvals, sent, decisions, target, requestIt, holdIt, decideAs };
}

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

describe('the approval function URL', () => {
  const body = JSON.stringify({ service: 'api', version: 'v1.2.3', environment: 'prod', decision: 'approve' });

  it('takes the approver from the signer\'s IAM identity', async () => {
    const t = setup();
    await t.requestIt();
    const res = await handleApprovalRequest({ callerArn: 'arn:aws:sts::111122223333:assumed-role/Release/alice', body }, t.deps);
    expect(res).toMatchObject({ status: 200, body: { outcome: { status: 'pending', approvers: ['alice'] } } });
  });

  it('refuses an approver named in the body, an unsigned request, the account root and a stranger', async () => {
    const t = setup();
    await t.requestIt();
    const named = await handleApprovalRequest({ callerArn: 'arn:aws:iam::111122223333:user/mallory', body: JSON.stringify({ ...JSON.parse(body), approver: 'alice' }) }, t.deps);
    expect(named).toMatchObject({ status: 400, body: { error: 'InvalidInput' } });
    expect(named.body.message).toContain('approver: not accepted: the approver is who signed the request');
    expect(await handleApprovalRequest({ callerArn: undefined, body }, t.deps)).toMatchObject({ status: 403 });
    expect(await handleApprovalRequest({ callerArn: 'arn:aws:iam::111122223333:root', body }, t.deps)).toMatchObject({ status: 403 });
    expect(await handleApprovalRequest({ callerArn: 'arn:aws:iam::111122223333:user/mallory', body }, t.deps)).toMatchObject({ status: 403, body: { error: 'ApproverNotAllowed' } });
    expect((await t.approvals.get(t.target))!.approvals).toEqual([]);
  });

  it('takes "promote" for a held canary', async () => {
    const t = setup();
    await t.holdIt();
    const res = await handleApprovalRequest({ callerArn: 'arn:aws:iam::111122223333:user/bob', body: JSON.stringify({ ...JSON.parse(body), decision: 'promote' }) }, t.deps);
    expect(res).toMatchObject({ status: 200, body: { outcome: { kind: 'canary-hold', status: 'approved', approvers: ['bob'] } } });
    const bad = await handleApprovalRequest({ callerArn: 'arn:aws:iam::111122223333:user/bob', body: JSON.stringify({ ...JSON.parse(body), decision: 'ship-it' }) }, t.deps);
    expect(bad).toMatchObject({ status: 400, body: { error: 'InvalidInput', message: expect.stringContaining('"promote" or "rollback" (a held canary') } });
  });

  it('answers 409 once decided and 400 for a body that is not JSON', async () => {
    const t = setup();
    expect(await handleApprovalRequest({ callerArn: 'arn:aws:iam::111122223333:user/alice', body }, t.deps)).toMatchObject({ status: 409 });
    expect(await handleApprovalRequest({ callerArn: 'arn:aws:iam::111122223333:user/alice', body: '{nope' }, t.deps)).toMatchObject({ status: 400 });
  });
});

describe('approver names from IAM ARNs', () => {
  it('are the user name, the role session name, or the federated user; nothing for the root or other principals', () => {
    expect(approverFromArn('arn:aws:iam::111122223333:user/ops/alice')).toBe('alice');
    expect(approverFromArn('arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Admin_0123/bob@acme.io')).toBe('bob@acme.io');
    expect(approverFromArn('arn:aws-cn:sts::111122223333:federated-user/carol')).toBe('carol');
    expect(approverFromArn('arn:aws:iam::111122223333:root')).toBeUndefined();
    expect(approverFromArn('arn:aws:iam::111122223333:role/Admin')).toBeUndefined();
    expect(approverFromArn('alice')).toBeUndefined();
  });
});
