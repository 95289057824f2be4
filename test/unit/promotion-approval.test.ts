import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../lambdas/adapters/json-logger.js';
import { StsCallerIdentity } from '../../lambdas/adapters/sts-caller-identity.js';
import { handleApprovalRequest } from '../../lambdas/lib/approval-http.js';
import { decideApproval } from '../../lambdas/lib/approval-decision.js';
import { RULES, approversOf } from '../../lambdas/lib/approval-kinds.js';
import { parseConfig } from '../../lambdas/lib/config.js';
import { ConfigError } from '../../lambdas/lib/errors.js';
import type { Ledger, TaskTokens } from '../../lambdas/lib/ports.js';
import { checkPolicy } from '../../lambdas/lib/steps/check-policy.js';
import { requestApproval, type PromotionRequest } from '../../lambdas/lib/steps/request-approval.js';
import { verifyApproval } from '../../lambdas/lib/steps/verify-approval.js';
import type { Decision } from '../../lambdas/lib/types.js';
import { signDecision } from '../../local/cli/approval-signing.js';
import { MemoryApprovals, approvalFixture } from '../support/approval-fixture.js';
import { FakeSts, type FakeKey } from '../support/fake-sts.js';

/** `environments[].approval`: its config, and the rules of kind `promotion` in the one decision core. */

const withApproval = (approval: unknown, extra: Record<string, unknown> = {}) => ({ services: { api: { environments: [{ name: 'dev' }, { name: 'prod', approval }] } }, ...extra });
const problems = (raw: unknown) => {
  try {
    parseConfig(raw);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).issues;
  }
  throw new Error('expected ConfigError');
};

describe('environments[].approval in the config', () => {
  it('fills needed 1 and timeoutHours 24', () => {
    expect(parseConfig(withApproval({ from: ['alice'] })).services.api!.environments[1]!.approval).toEqual({ needed: 1, from: ['alice'], timeoutHours: 24 });
  });

  it('names the field and why for each bad part', () => {
    const at = 'services.api.environments[1].approval';
    expect(problems(withApproval({}))).toEqual([{ field: `${at}.from`, problem: 'is required (expected a list of approvers, e.g. ["alice"] or ["arn:aws:iam::111122223333:user/alice"])' }]);
    expect(problems(withApproval({ from: 'alice' }))).toEqual([{ field: `${at}.from`, problem: expect.stringContaining('got the string "alice"') }]);
    expect(problems(withApproval({ from: ['alice'], timeoutHours: '24' }))).toEqual([{ field: `${at}.timeoutHours`, problem: 'expected a number of hours, e.g. 24; got the string "24"' }]);
    expect(problems(withApproval({ from: [] }))).toEqual([{ field: `${at}.from`, problem: expect.stringContaining('name at least one approver') }]);
    expect(problems(withApproval({ from: ['alice'], needed: 0 }))).toEqual([{ field: `${at}.needed`, problem: expect.stringContaining('at least 1') }]);
    expect(problems(withApproval({ from: ['alice'], needed: 1.5 }))).toEqual([{ field: `${at}.needed`, problem: expect.stringContaining('whole number') }]);
    expect(problems(withApproval({ from: ['alice'], timeoutHours: 0 }))).toEqual([{ field: `${at}.timeoutHours`, problem: expect.stringContaining('more than 0 hours') }]);
    expect(problems(withApproval({ from: ['alice'], timeoutHours: 169 }))).toEqual([{ field: `${at}.timeoutHours`, problem: expect.stringContaining('at most 168') }]);
    expect(problems(withApproval({ from: ['arn:aws:iam::111122223333:role/ops'] }))[0]).toMatchObject({ field: `${at}.from[0]`, problem: expect.stringContaining('is a role, which many people may assume') });
    expect(problems(withApproval({ from: ['alice'], neded: 2 }))).toEqual([{ field: `${at}.neded`, problem: 'unknown field; did you mean "needed"?' }]);
  });

  it('refuses a number of approvals its approvers can never give, and an approver listed twice', () => {
    const at = 'services.api.environments[1].approval';
    expect(problems(withApproval({ from: ['alice', 'alice'], needed: 2 }))).toEqual([
      { field: `${at}.from[1]`, problem: '"alice" appears twice; each approver counts once' },
      { field: `${at}.needed`, problem: '2 different approvals can never come from the 1 approver in from; lower needed or list more approvers' },
    ]);
  });

  it("lets policy.githubLogins name an environment's approver, who then may not approve their own release", () => {
    expect(() => parseConfig(withApproval({ from: ['dave'] }, { policy: { githubLogins: { dave: 'dave-gh' } } }))).not.toThrow();
    expect(problems(withApproval({ from: ['dave'] }, { policy: { githubLogins: { erin: 'erin-gh' } } }))).toEqual([{ field: 'policy.githubLogins.erin', problem: expect.stringContaining("not in policy.approvers nor any environment's approval.from") }]);
  });
});

/** The decision core for a promotion request of api v1.2.3 into prod. */
function promotionFixture(approval: Record<string, unknown>, opts: { initiator?: { github?: string; arn?: string } } = {}) {
  const config = parseConfig(withApproval(approval, { policy: { approvers: ['alice', 'bob'], githubLogins: { carol: 'carol-gh' } } }));
  const approvals = new MemoryApprovals();
  const sent: { kind: 'succeed' | 'fail'; output?: unknown; error?: string; cause?: string }[] = [];
  const decisions: Decision[] = [];
  const events: unknown[] = [];
  const deps = {
    config: async () => config,
    approvals,
    taskTokens: { succeed: async (_t: string, output: unknown) => void sent.push({ kind: 'succeed', output }), fail: async (_t: string, error: string, cause: string) => void sent.push({ kind: 'fail', error, cause }) } as TaskTokens,
    ledger: { recordDecision: async (d: Decision) => void decisions.push(d), freezes: async () => [], environments: async () => [] } as unknown as Ledger,
    // Nothing else runs anywhere: the hotfix check reads no build.
    store: { get: async () => undefined, stream: async () => undefined },
    locations: { artifactsBucket: 'artifacts', environmentsBucket: 'environments' },
    events: { put: async (e: unknown[]) => void events.push(...e) },
    clock: { now: () => new Date('2026-12-22T10:00:00Z'), sleep: async () => {} },
    log: silentLogger,
    approvalChannel: { kind: 'local' as const },
  };
  const release = { service: 'api', version: 'v1.2.3', trigger: { kind: 'tag-push' as const }, ...(opts.initiator ? { initiator: opts.initiator } : {}) };
  const request = async (): Promise<PromotionRequest> => {
    const policy = await checkPolicy({ releaseId: 'api@v1.2.3', executionId: 'exec-1', release, stage: { environment: config.services.api!.environments[1]! } }, deps);
    if (policy.action !== 'go' || !policy.promotion) throw new Error(`expected go with a promotion gate, got ${JSON.stringify(policy)}`);
    const input: PromotionRequest = { kind: 'promotion', releaseId: 'api@v1.2.3', executionId: 'exec-1', release, environment: 'prod', promotion: policy.promotion };
    await requestApproval({ taskToken: 'token-1', request: input }, deps);
    return input;
  };
  const decideAs = (approver: string, decision: 'approve' | 'reject' = 'approve', comment?: string) =>
    decideApproval({ service: 'api', version: 'v1.2.3', environment: 'prod', approver, decision, ...(comment ? { comment } : {}) }, deps);
  return { config, deps, approvals, sent, decisions, events, request, decideAs };
}

describe('promotion approvals', () => {
  it('are asked by the policy check only where approval is configured, with its timeout in seconds and a cause', async () => {
    const t = promotionFixture({ from: ['carol', 'dave'], needed: 2, timeoutHours: 0.5 });
    const dev = await checkPolicy({ releaseId: 'r', executionId: 'e', release: { service: 'api', version: 'v1.2.3', trigger: { kind: 'manual' } }, stage: { environment: t.config.services.api!.environments[0]! } }, t.deps);
    expect(dev).not.toHaveProperty('promotion');
    const input = await t.request();
    expect(input.promotion).toEqual({ needed: 2, from: ['carol', 'dave'], approvalTimeoutSeconds: 1800, timeoutReason: expect.stringContaining('did not get 2 approvals from carol, dave within 30 min (services.api.environments[1].approval.timeoutHours)') });
    expect(t.events).toEqual([
      expect.objectContaining({ DetailType: 'Approval Requested', Detail: expect.objectContaining({ kind: 'promotion', needed: 2, approvers: ['carol', 'dave'], expiresAt: '2026-12-22T10:30:00.000Z', howToApprove: expect.stringContaining('--approve NAME,NAME') }) }),
    ]);
  });

  it("take the environment's needed from its approvers only, and verify what the ledger holds", async () => {
    const t = promotionFixture({ from: ['carol', 'dave'], needed: 2 });
    const input = await t.request();
    await expect(t.decideAs('alice')).rejects.toMatchObject({ name: 'ApproverNotAllowed', message: expect.stringContaining('services.api.environments[1].approval.from lists carol, dave') });
    expect(await t.decideAs('carol')).toMatchObject({ kind: 'promotion', status: 'pending', approvers: ['carol'], needed: 2 });
    await expect(verifyApproval({ request: input }, t.deps)).rejects.toMatchObject({ name: 'ApprovalNotVerified', message: expect.stringContaining('it holds 1 valid approval of the 2 it needs') });
    expect(await t.decideAs('dave')).toMatchObject({ status: 'approved', approvers: ['carol', 'dave'] });
    expect(t.sent).toEqual([{ kind: 'succeed', output: expect.objectContaining({ kind: 'promotion', decision: 'approve', approvers: ['carol', 'dave'] }) }]);
    expect(await verifyApproval({ request: input }, t.deps)).toEqual({ verified: true, kind: 'promotion', approvers: ['carol', 'dave'] });
    // Someone removed from approval.from since no longer counts.
    const fewer = { ...t.deps, config: async () => parseConfig(withApproval({ from: ['carol', 'erin'], needed: 2 })) };
    await expect(verifyApproval({ request: input }, fewer)).rejects.toMatchObject({ message: expect.stringContaining('dave is not in services.api.environments[1].approval.from') });
  });

  it('stop the release at one reject with ApprovalRejected, naming who and why', async () => {
    const t = promotionFixture({ from: ['carol', 'dave'], needed: 2 });
    await t.request();
    await t.decideAs('carol');
    expect(await t.decideAs('dave', 'reject', 'checklist not done')).toMatchObject({ status: 'rejected' });
    expect(t.sent).toEqual([{ kind: 'fail', error: 'ApprovalRejected', cause: expect.stringMatching(/^dave rejected the promotion of api v1\.2\.3 into prod at .*: checklist not done$/) }]);
    expect(t.decisions.at(-1)).toMatchObject({ step: 'approval', environment: 'prod', verdict: 'failed', evidence: { kind: 'promotion', rejectedBy: { approver: 'dave', comment: 'checklist not done' } } });
  });

  it('refuse the approval of the person who caused the release, by GitHub login or by ARN', async () => {
    expect(RULES.promotion.initiatorMayDecide).toBe(false);
    const t = promotionFixture({ from: ['carol', 'dave'] }, { initiator: { github: 'carol-gh' } });
    await t.request();
    await expect(t.decideAs('carol')).rejects.toMatchObject({ name: 'ApproverNotAllowed', message: expect.stringContaining('carol caused this release (GitHub user carol-gh pushed its tag) and may not approve the promotion of api v1.2.3 into prod: 1 other approver must') });
    expect(await t.decideAs('dave')).toMatchObject({ status: 'approved' });

    const arn = 'arn:aws:iam::111122223333:user/dave';
    const u = promotionFixture({ from: [arn, 'carol'] }, { initiator: { arn } });
    const input = await u.request();
    await expect(u.decideAs(arn)).rejects.toMatchObject({ name: 'ApproverNotAllowed' });
    // Had their approval reached the ledger another way, verification still refuses it.
    await u.approvals.addApproval({ service: 'api', version: 'v1.2.3', environment: 'prod', kind: 'promotion' }, arn, '2026-12-22T10:00:01Z');
    await u.approvals.transition({ service: 'api', version: 'v1.2.3', environment: 'prod', kind: 'promotion' }, 'pending', 'approved', '2026-12-22T10:00:01Z');
    await expect(verifyApproval({ request: input }, u.deps)).rejects.toMatchObject({ message: expect.stringContaining('dave caused the release') });
  });

  it('read who may approve from the deployed config: nobody once the environment no longer asks', () => {
    const config = parseConfig(withApproval({ from: ['carol'] }, { policy: { approvers: ['alice', 'bob'] } }));
    expect(approversOf('promotion', config, { service: 'api', environment: 'prod' })).toEqual({ allowed: ['carol'], needed: 1, field: 'services.api.environments[1].approval.from' });
    expect(approversOf('emergency', config, { service: 'api', environment: 'prod' })).toEqual({ allowed: ['alice', 'bob'], needed: 2, field: 'policy.approvers' });
    expect(approversOf('promotion', config, { service: 'api', environment: 'dev' }).allowed).toEqual([]);
  });
});

describe("environments' sign-offs in the release machine's time budget", () => {
  const three = (timeoutHours: number) => ({ services: { api: { environments: ['dev', 'staging', 'prod'].map((name) => ({ name, approval: { from: ['alice'], timeoutHours } })) } } });

  it('count alone without a policy', () => {
    expect(() => parseConfig(three(104))).not.toThrow();
    expect(problems(three(105))).toEqual([{ field: 'services.api.environments', problem: expect.stringContaining('could wait 315 h for approvals') }]);
  });

  it("count with the policy's own waits, once", () => {
    // One gated environment (72 h) and 3 × 80 h of sign-offs: 312 h fits; 3 × 81 h does not.
    const policy = { windows: [{ environments: ['prod'], days: ['mon'], from: '09:00', to: '10:00' }], maxWaitHours: 72, approvalTimeoutHours: 24 };
    expect(() => parseConfig({ ...three(80), policy })).not.toThrow();
    expect(problems({ ...three(81), policy })).toEqual([
      { field: 'policy.maxWaitHours', problem: expect.stringContaining("could wait 72 h in each of its 1 gated environments (prod) and 243 h for its environments' approvals (approval.timeoutHours), 315 h in all") },
    ]);
    expect(problems({ ...three(81), policy })[0]!.problem).toMatch(/lower it to at most 69, or lower the environments' approval.timeoutHours$/);
    expect(problems({ ...three(104), policy })).toEqual([{ field: 'services.api.environments', problem: expect.stringMatching(/; lower the environments' approval.timeoutHours$/) }]);
  });
});

describe('a promotion approved through the function URL (AWS)', () => {
  const ACCOUNT = '111122223333';
  const ALICE = `arn:aws:iam::${ACCOUNT}:user/alice`;
  const CAROL = `arn:aws:iam::${ACCOUNT}:user/carol`;
  const NOW = '2026-12-22T10:00:00Z';
  const key = (id: string, arn: string): FakeKey => ({ accessKeyId: `AKIA${id.toUpperCase().padEnd(16, 'X')}`, secretAccessKey: `secret-of-${id}`, arn }) as FakeKey;

  it("lets a principal of the environment's approval.from decide its promotion only, not an emergency", async () => {
    const t = approvalFixture({ approvers: [ALICE, `arn:aws:iam::${ACCOUNT}:user/bob`], now: NOW });
    const config = parseConfig({ services: { api: { environments: [{ name: 'prod', approval: { from: [CAROL] } }] } }, policy: { approvers: [ALICE, `arn:aws:iam::${ACCOUNT}:user/bob`] } });
    const sts = new FakeSts([key('alice', ALICE), key('carol', CAROL)]);
    const deps = { ...t.deps, config: async () => config, identity: new StsCallerIdentity(sts.fetch) };
    const send = async (who: FakeKey, environment = 'prod') => {
      const signed = await signDecision('https://abc123.lambda-url.eu-west-1.on.aws/', { ...t.target, environment, decision: 'approve' }, { accessKeyId: who.accessKeyId, secretAccessKey: who.secretAccessKey }, 'eu-west-1', new Date(NOW));
      return handleApprovalRequest({ urlSignerArn: who.arn, account: ACCOUNT, body: signed.body }, deps);
    };
    const [alice, carol] = [key('alice', ALICE), key('carol', CAROL)];

    // An emergency waits: carol is nobody's emergency approver.
    await t.requestIt();
    expect(await send(carol)).toMatchObject({ status: 403, body: { error: 'ApproverNotAllowed', message: expect.stringContaining('policy.approvers lists') } });
    await t.approvals.transition(t.target, 'pending', 'approved', NOW);

    // Its promotion waits: alice (an emergency approver) may not sign it off; carol may.
    await t.approvals.request({ ...t.target, kind: 'promotion', releaseId: 'api@v1.2.3', executionId: 'exec-1', taskToken: 'token-2', reason: 'prod needs 1 approval before each deploy', requestedAt: '2026-12-22T09:59:30Z', expiresAt: '2026-12-23T09:59:30Z' });
    expect(await send(alice)).toMatchObject({ status: 403, body: { error: 'ApproverNotAllowed', message: expect.stringContaining('services.api.environments[0].approval.from lists arn:aws:iam::111122223333:user/carol') } });
    expect(await send(carol)).toMatchObject({ status: 200, body: { outcome: { kind: 'promotion', status: 'approved', approvers: [CAROL] } } });
    expect(t.sent).toEqual([expect.objectContaining({ kind: 'succeed', token: 'token-2' })]);
  });
});
