import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock, type Clock } from '../../lambdas/lib/ports.js';
import { historyLines } from '../../local/cli/history.js';
import type { ApprovalRequested, LocalRuntime } from '../../local/runtime/runtime.js';
import { commitOf, demoConfig, prodOf, startHarness, statesEntered, type Harness, type RawService } from '../support/harness.js';
import { SAMPLE_POLICY } from '../support/policy.js';

/**
 * Issue 14: `environments[].approval`, a routine sign-off before each deploy into an
 * environment, through the real release.asl.json: the same Request approval / Verify approval
 * states and decision core as an emergency, kind `promotion`, asked after the policy allowed
 * the deploy and before the environment's lock.
 */

const nextApprovalRequest = (rt: LocalRuntime, kind?: ApprovalRequested['kind']) =>
  new Promise<ApprovalRequested>((resolve) => {
    const off = rt.onApprovalRequested((r) => {
      if (kind && r.kind !== kind) return;
      off();
      resolve(r);
    });
  });

/** Prod of a copy of demo signs off with `approval`. */
const gated = (approval: Record<string, unknown>) => (s: RawService) => void (prodOf(s).approval = approval);

/** Whether the execution is still running after its pending work had every chance to end it. */
const stillWaiting = (done: Promise<unknown>) => Promise.race([done.then(() => 'ended'), new Promise((r) => setTimeout(() => r('waiting'), 300))]);

describe('an environment that needs a person to approve each deploy', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      config: demoConfig({
        services: {
          gated: gated({ from: ['alice', 'bob'] }),
          refused: gated({ from: ['alice', 'bob'] }),
          own: gated({ needed: 1, from: ['alice', 'bob'] }),
          unanswered: gated({ from: ['alice'], timeoutHours: 1 / 3600 }),
        },
        // Only the GitHub login of an approver: nothing is closed, no emergency approvers.
        policy: { githubLogins: { alice: 'alice-gh' } },
      }),
    });
  });
  afterAll(async () => h?.close());

  it('waits before prod holding no lock, deploys once an approver of approval.from approves, and records who and when', async () => {
    const service = 'gated';
    await h.publish('v1.0.0', { service });
    const requested = nextApprovalRequest(h.rt);
    const run = h.rt.startExecution('release', { service, version: 'v1.0.0' });
    const request = await requested;
    expect(request).toMatchObject({ kind: 'promotion', service, version: 'v1.0.0', environment: 'prod', approvers: ['alice', 'bob'], needed: 1, executionArn: run.executionArn });

    // Waiting: staging has it, prod has neither the version nor a lock.
    expect(await stillWaiting(run.done)).toBe('waiting');
    expect(await h.promotedAnywhere(service, 'v1.0.0')).toEqual(['dev', 'staging']);
    expect((await h.rt.deps.ledger.getEnvironment(service, 'prod'))?.lockHolder).toBeUndefined();
    const event = h.rt.emitted.find((e) => e.DetailType === 'Approval Requested' && (e.Detail as { service: string }).service === service)!;
    expect(event.Detail).toMatchObject({ kind: 'promotion', environment: 'prod', needed: 1, approvers: ['alice', 'bob'], executionId: run.executionArn, howToApprove: expect.stringContaining('--approve NAME ') });
    const pending = await h.rt.deps.approvals.get({ ...request, kind: 'promotion' });
    expect(pending).toMatchObject({ status: 'pending', expiresAt: (event.Detail as { expiresAt: string }).expiresAt });
    expect(Date.parse(pending!.expiresAt) - Date.parse(pending!.requestedAt)).toBe(24 * 3_600_000);

    // Someone not in approval.from may not; an approver may.
    await expect(h.rt.approve(request, 'carol')).rejects.toMatchObject({ name: 'ApproverNotAllowed', message: expect.stringContaining(`services.${service}.environments[2].approval.from lists alice, bob`) });
    const before = Date.now();
    expect(await h.rt.approve(request, 'bob')).toMatchObject({ kind: 'promotion', status: 'approved', approvers: ['bob'] });
    const s = await run.done;

    expect(s.status, s.cause).toBe('SUCCEEDED');
    expect((await h.rt.deps.ledger.getEnvironment(service, 'prod'))?.version).toBe('v1.0.0');
    const record = await h.rt.deps.approvals.get({ ...request, kind: 'promotion' });
    expect(record).toMatchObject({ status: 'approved', kind: 'promotion', executionId: run.executionArn });
    expect(record!.approvals.map((a) => a.approver)).toEqual(['bob']);
    expect(Date.parse(record!.approvals[0]!.at)).toBeGreaterThanOrEqual(before - 1000);
    const decisions = (await h.rt.deps.ledger.decisions(service, 'v1.0.0')).filter((d) => d.step === 'approval');
    expect(decisions.map((d) => [d.environment, d.verdict])).toEqual([['prod', 'waiting'], ['prod', 'passed']]);
    expect(decisions[1]!.summary).toMatch(/^bob approved the promotion of gated v1\.0\.0 into prod at /);
    // `tagflow history` shows the decision row: who approved, and when.
    const history = (await historyLines(h.rt.deps.ledger, service, 'v1.0.0')).join('\n').replace(/\u001b\[\d+m/g, '');
    expect(history).toMatch(/ approval +prod +passed +bob approved the promotion of gated v1\.0\.0 into prod at \d{4}-/);
    // The gate, then the lock: the machine asked before it locked prod, and verified the approval in the ledger.
    const entered = statesEntered(s.history);
    const lastLock = entered.lastIndexOf('Acquire environment lock');
    expect(entered.slice(lastLock - 4, lastLock)).toEqual(['Prepare promotion request', 'Request approval', 'Verify approval', 'Promotion approval']);
    expect(entered.filter((n) => n === 'Request approval')).toHaveLength(1);
  });

  it("stops before prod with the approver's reason when one rejects; dev and staging keep the version", async () => {
    const service = 'refused';
    await h.publish('v1.0.0', { service });
    const requested = nextApprovalRequest(h.rt);
    const run = h.rt.startExecution('release', { service, version: 'v1.0.0' });
    const request = await requested;
    expect(await h.rt.reject(request, 'alice', 'the prod checklist is not done')).toMatchObject({ kind: 'promotion', status: 'rejected' });
    const s = await run.done;

    expect(s).toMatchObject({ status: 'FAILED', error: 'ApprovalRejected' });
    expect(s.cause).toContain(`alice rejected the promotion of ${service} v1.0.0 into prod`);
    expect(s.cause).toContain('the prod checklist is not done');
    expect(statesEntered(s.history)).not.toContain('Roll back environment');
    expect(await h.promotedAnywhere(service, 'v1.0.0')).toEqual(['dev', 'staging']);
    expect((await h.rt.deps.ledger.getEnvironment(service, 'prod'))?.version).toBeUndefined();
    expect((await h.rt.deps.ledger.getEnvironment(service, 'prod'))?.lockHolder).toBeUndefined();
    expect(await h.rt.deps.ledger.getOutcome(service, 'v1.0.0')).toMatchObject({ outcome: 'failed', error: 'ApprovalRejected', reason: expect.stringContaining('the prod checklist is not done') });
    expect((await h.rt.deps.ledger.getEnvironment(service, 'staging'))?.version).toBe('v1.0.0');
    const rejected = (await h.rt.deps.ledger.decisions(service, 'v1.0.0')).filter((d) => d.step === 'approval').at(-1)!;
    expect(rejected).toMatchObject({ environment: 'prod', verdict: 'failed', evidence: { kind: 'promotion', rejectedBy: { approver: 'alice', comment: 'the prod checklist is not done' } } });
    await expect(h.rt.approve(request, 'bob')).rejects.toMatchObject({ name: 'ApprovalNotPending' });
  });

  it('refuses the approval of the person who pushed the tag; another approver lets it go', async () => {
    const service = 'own';
    await h.publish('v1.0.0', { service });
    const requested = nextApprovalRequest(h.rt);
    const { started } = h.rt.sendEvent({ source: 'tagflow', 'detail-type': 'Tag Pushed', detail: { repository: `acme/${service}`, tag: 'v1.0.0', commit: commitOf('v1.0.0'), sender: 'alice-gh' } });
    expect(started).toHaveLength(1);
    const run = started[0]!.execution;
    const request = await requested;

    await expect(h.rt.approve(request, 'alice')).rejects.toMatchObject({ name: 'ApproverNotAllowed', message: expect.stringContaining('alice caused this release (GitHub user alice-gh pushed its tag) and may not approve the promotion of own v1.0.0 into prod') });
    expect(await stillWaiting(run.done)).toBe('waiting');
    expect(await h.rt.approve(request, 'bob')).toMatchObject({ status: 'approved', approvers: ['bob'] });
    const s = await run.done;
    expect(s.status, s.cause).toBe('SUCCEEDED');
    expect(await h.rt.deps.approvals.get({ ...request, kind: 'promotion' })).toMatchObject({ initiator: { github: 'alice-gh' }, approvals: [{ approver: 'bob' }] });
  });

  it('fails safe with ApprovalTimedOut when nobody decides within timeoutHours, and deploys nothing there', async () => {
    const service = 'unanswered';
    await h.publish('v1.0.0', { service });
    const requested = nextApprovalRequest(h.rt);
    const run = h.rt.startExecution('release', { service, version: 'v1.0.0' });
    const request = await requested;
    const s = await run.done;

    expect(s).toMatchObject({ status: 'FAILED', error: 'ApprovalTimedOut' });
    expect(s.cause).toContain(`the promotion of ${service} v1.0.0 into prod did not get 1 approval from alice within`);
    expect(s.cause).toContain(`services.${service}.environments[2].approval.timeoutHours`);
    expect(await h.promotedAnywhere(service, 'v1.0.0')).toEqual(['dev', 'staging']);
    expect(await h.rt.deps.ledger.getOutcome(service, 'v1.0.0')).toMatchObject({ outcome: 'failed', error: 'ApprovalTimedOut' });
    await expect(h.rt.approve(request, 'alice')).rejects.toMatchObject({ name: 'ApprovalExpired' });
  });
});

/** A clock that starts at `iso` and then ticks with real time. */
function clockFrom(iso: string): Clock {
  const start = Date.parse(iso);
  const t0 = Date.now();
  return { now: () => new Date(start + (Date.now() - t0)), sleep: systemClock.sleep };
}

describe('an emergency release into a frozen environment that also needs a sign-off', () => {
  let h: Harness;
  // Tuesday 22 December 2026, 11:00 in Berlin: prod is in the year-end freeze.
  beforeAll(async () => {
    h = await startHarness({ config: demoConfig({ policy: SAMPLE_POLICY, services: { urgent: gated({ from: ['dave'] }) } }), clock: clockFrom('2026-12-22T10:00:00Z') });
  });
  afterAll(async () => h?.close());

  it("asks both: the emergency's two approvers open prod, then the environment's approver signs the promotion off", async () => {
    const service = 'urgent';
    await h.publish('v1.0.0', { service });
    const emergency = nextApprovalRequest(h.rt, 'emergency');
    const promotion = nextApprovalRequest(h.rt, 'promotion');
    const run = h.rt.startExecution('release', { service, version: 'v1.0.0', emergency: { reason: 'card payments failing' } });
    const first = await emergency;
    expect(first).toMatchObject({ environment: 'prod', approvers: ['alice', 'bob', 'carol'], needed: 2 });
    // dave signs promotions, not emergencies.
    await expect(h.rt.approve(first, 'dave')).rejects.toMatchObject({ name: 'ApproverNotAllowed' });
    await h.rt.approve(first, 'alice');
    await h.rt.approve(first, 'bob');
    const second = await promotion;
    expect(second).toMatchObject({ environment: 'prod', approvers: ['dave'], needed: 1 });
    expect((await h.rt.deps.ledger.getEnvironment(service, 'prod'))?.lockHolder).toBeUndefined();
    await expect(h.rt.approve(second, 'alice')).rejects.toMatchObject({ name: 'ApproverNotAllowed' });
    await h.rt.approve(second, 'dave');
    const s = await run.done;

    expect(s.status, s.cause).toBe('SUCCEEDED');
    expect((await h.rt.deps.ledger.getEnvironment(service, 'prod'))?.version).toBe('v1.0.0');
    expect(statesEntered(s.history).filter((n) => n === 'Verify approval')).toHaveLength(2);
    const passed = (await h.rt.deps.ledger.decisions(service, 'v1.0.0')).filter((d) => d.step === 'approval' && d.verdict === 'passed');
    expect(passed.map((d) => d.summary)).toEqual([expect.stringContaining('approved by alice and bob'), expect.stringContaining('dave approved the promotion of urgent v1.0.0 into prod')]);
  });
});
