import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PipelineConfig } from '../../lambdas/lib/config.js';
import { systemClock, type Clock } from '../../lambdas/lib/ports.js';
import type { ApprovalRequested, LocalRuntime } from '../../local/runtime/runtime.js';
import { demoConfig, startHarness, statesEntered, type Harness } from '../support/harness.js';
import { SAMPLE_POLICY } from '../support/policy.js';

/**
 * Deployment windows, freezes and the two-approver emergency gate, through the real
 * release.asl.json: the policy step runs with an injected clock, the Wait until the window
 * opens is compressed (the runtime's clock jumps to the opening), and approvals go through
 * the same decision core as the AWS function URL.
 */

const POLICY = SAMPLE_POLICY;

/** The demo's config (no canary) with the policy, and more services as copies of demo. */
function configWith(policy: Record<string, unknown>, services: string[] = []): PipelineConfig {
  return demoConfig({ policy, services });
}

/** A clock that starts at `iso` and then ticks with real time. */
function clockFrom(iso: string): Clock {
  const start = Date.parse(iso);
  const t0 = Date.now();
  return { now: () => new Date(start + (Date.now() - t0)), sleep: systemClock.sleep };
}

const nextApprovalRequest = (rt: LocalRuntime) =>
  new Promise<ApprovalRequested>((resolve) => {
    const off = rt.onApprovalRequested((r) => {
      off();
      resolve(r);
    });
  });

const policyDecisions = async (h: Harness, version: string) => (await h.rt.deps.ledger.decisions('demo', version)).filter((d) => d.step === 'policy' && d.environment === 'prod');

describe('a release into a closed environment', () => {
  let h: Harness;
  // Friday 27 March 2026, 17:00 in Berlin (CET): prod closed for the weekend, and the clocks go forward on Sunday.
  beforeAll(async () => {
    h = await startHarness({ config: configWith(POLICY), clock: clockFrom('2026-03-27T16:00:00Z') });
  });
  afterAll(async () => h?.close());

  it('waits for the window (Monday 09:00 CEST, after the DST change) and then ships', async () => {
    await h.publish('v1.0.0');
    const s = await h.rt.startExecution('release', { service: 'demo', version: 'v1.0.0' }).done;

    expect(s.status).toBe('SUCCEEDED');
    const entered = statesEntered(s.history);
    expect(entered.filter((n) => n === 'Wait for deploy window')).toHaveLength(1);
    // dev and staging are named by no window: they went at once.
    expect(entered.filter((n) => n === 'Check deploy policy')).toHaveLength(4);
    const [waiting, passed] = await policyDecisions(h, 'v1.0.0');
    expect(waiting).toMatchObject({ verdict: 'waiting' });
    expect(waiting!.summary).toContain('outside its deployment windows (mon–fri 09:00–16:00, Europe/Berlin)');
    expect(waiting!.summary).toContain('2026-03-30T07:00:00.000Z');
    expect(passed).toMatchObject({ verdict: 'passed' });
    expect(Date.parse(passed!.at)).toBeGreaterThanOrEqual(Date.parse('2026-03-30T07:00:00Z'));
    const deployedProd = (await h.rt.deps.ledger.decisions('demo', 'v1.0.0')).find((d) => d.step === 'deploy' && d.environment === 'prod')!;
    expect(Date.parse(deployedProd.at)).toBeGreaterThanOrEqual(Date.parse('2026-03-30T07:00:00Z'));
    expect((await h.rt.deps.ledger.getEnvironment('demo', 'prod'))?.version).toBe('v1.0.0');
  });
});

describe('a release into a freeze', () => {
  let h: Harness;
  // Tuesday 22 December 2026, 11:00 in Berlin: inside the weekday window, but in the year-end freeze.
  // Each test releases its own service (a copy of demo).
  beforeAll(async () => {
    h = await startHarness({ config: configWith(POLICY, ['frozen', 'emergency', 'rejected']), clock: clockFrom('2026-12-22T10:00:00Z') });
  });

  /** Two different approvers let an emergency release of `version` into prod. */
  async function emergencyShipped(service: string, version: string): Promise<void> {
    await h.publish(version, { service });
    const requested = nextApprovalRequest(h.rt);
    const run = h.rt.startExecution('release', { service, version, emergency: { reason: 'card payments failing' } });
    const request = await requested;
    await h.rt.approve(request, 'alice');
    await h.rt.approve(request, 'bob');
    expect((await run.done).status).toBe('SUCCEEDED');
  }
  afterAll(async () => h?.close());

  it('fails with DeployWindowClosed when the freeze outlasts maxWaitHours, saying what is closed, until when, and how to override', async () => {
    const service = 'frozen';
    await h.publish('v1.0.0', { service });
    const s = await h.rt.startExecution('release', { service, version: 'v1.0.0' }).done;

    expect(s).toMatchObject({ status: 'FAILED', error: 'DeployWindowClosed' });
    expect(s.cause).toContain('in the freeze "year-end" until Mon, 4 Jan 2027');
    expect(s.cause).toContain('more than policy.maxWaitHours (72 h)');
    expect(s.cause).toContain('approved by 2 of alice, bob, carol can override it');
    expect(statesEntered(s.history)).not.toContain('Wait for deploy window');
    expect(await h.promotedAnywhere(service, 'v1.0.0')).toEqual(['dev', 'staging']);
    expect(await h.rt.deps.ledger.getOutcome(service, 'v1.0.0')).toMatchObject({ outcome: 'failed', error: 'DeployWindowClosed' });
    expect((await h.rt.deps.ledger.getEnvironment(service, 'prod'))?.lockHolder).toBeUndefined();
  });

  it('ships an emergency release after two different approvers, and the ledger records who and when', async () => {
    const service = 'emergency';
    await h.publish('v1.0.1', { service });
    const requested = nextApprovalRequest(h.rt);
    const run = h.rt.startExecution('release', { service, version: 'v1.0.1', emergency: { reason: 'card payments failing since v1.0.0' } });
    const request = await requested;
    expect(request).toMatchObject({ service, version: 'v1.0.1', environment: 'prod', approvers: ['alice', 'bob', 'carol'] });

    const first = await h.rt.approve(request, 'alice');
    expect(first).toMatchObject({ status: 'pending', approvers: ['alice'], needed: 2 });
    const second = await h.rt.approve(request, 'bob');
    expect(second).toMatchObject({ status: 'approved', approvers: ['alice', 'bob'] });
    const s = await run.done;

    expect(s.status).toBe('SUCCEEDED');
    expect((await h.rt.deps.ledger.getEnvironment(service, 'prod'))?.version).toBe('v1.0.1');
    const record = await h.rt.deps.approvals.get(request);
    expect(record).toMatchObject({ status: 'approved', reason: 'card payments failing since v1.0.0', executionId: run.executionArn });
    expect(record!.approvals.map((a) => a.approver)).toEqual(['alice', 'bob']);
    for (const a of record!.approvals) expect(Date.parse(a.at)).toBeGreaterThanOrEqual(Date.parse('2026-12-22T10:00:00Z'));
    const approvals = (await h.rt.deps.ledger.decisions(service, 'v1.0.1')).filter((d) => d.step === 'approval');
    expect(approvals.map((d) => d.verdict)).toEqual(['waiting', 'waiting', 'waiting', 'passed']);
    expect(approvals.at(-1)!.summary).toContain('approved by alice and bob');
    const event = h.rt.emitted.find((e) => e.DetailType === 'Approval Requested' && (e.Detail as { service: string }).service === service && (e.Detail as { version: string }).version === 'v1.0.1');
    expect(event?.Detail).toMatchObject({ service, environment: 'prod', approvers: ['alice', 'bob', 'carol'], needed: 2, executionId: run.executionArn });
    expect((event!.Detail as { reason: string }).reason).toContain('card payments failing');
  });

  it('does not open for one approver approving twice, and fails with ApprovalRejected when another rejects', async () => {
    const service = 'rejected';
    // v1.0.1 went to prod in an emergency before: a rejected v1.0.2 leaves it there.
    await emergencyShipped(service, 'v1.0.1');
    await h.publish('v1.0.2', { service });
    const requested = nextApprovalRequest(h.rt);
    const run = h.rt.startExecution('release', { service, version: 'v1.0.2', emergency: { reason: 'hotfix' } });
    const request = await requested;

    await h.rt.approve(request, 'alice');
    const again = await h.rt.approve(request, 'alice');
    expect(again).toMatchObject({ status: 'pending', approvers: ['alice'] });
    const stillWaiting = await Promise.race([run.done.then(() => 'ended'), new Promise((r) => setTimeout(() => r('waiting'), 300))]);
    expect(stillWaiting).toBe('waiting');
    await expect(h.rt.approve(request, 'mallory')).rejects.toMatchObject({ name: 'ApproverNotAllowed' });

    const rejected = await h.rt.reject(request, 'carol', 'not during the freeze');
    expect(rejected.status).toBe('rejected');
    const s = await run.done;
    expect(s).toMatchObject({ status: 'FAILED', error: 'ApprovalRejected' });
    expect(s.cause).toContain(`carol rejected the emergency release of ${service} v1.0.2 into prod`);
    expect(s.cause).toContain('not during the freeze');
    expect((await h.rt.deps.ledger.getEnvironment(service, 'prod'))?.version).toBe('v1.0.1');
    expect(await h.rt.deps.ledger.getOutcome(service, 'v1.0.2')).toMatchObject({ outcome: 'failed', error: 'ApprovalRejected' });
    const record = await h.rt.deps.approvals.get(request);
    expect(record).toMatchObject({ status: 'rejected', rejectedBy: { approver: 'carol', comment: 'not during the freeze' } });
    expect(record!.approvals.map((a) => a.approver)).toEqual(['alice']);
    // Decided is decided: a late approval is refused, and nothing reaches the ended execution.
    await expect(h.rt.approve(request, 'bob')).rejects.toMatchObject({ name: 'ApprovalNotPending' });
  });
});

describe('an emergency release nobody approves', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ config: configWith({ ...POLICY, approvalTimeoutHours: 1 / 3600 }), clock: clockFrom('2026-12-22T10:00:00Z') });
  });
  afterAll(async () => h?.close());

  it('fails with ApprovalTimedOut after approvalTimeoutHours, saying so', async () => {
    await h.publish('v1.0.0');
    const requested = nextApprovalRequest(h.rt);
    const run = h.rt.startExecution('release', { service: 'demo', version: 'v1.0.0', emergency: { reason: 'hotfix' } });
    const request = await requested;
    await h.rt.approve(request, 'alice');
    const s = await run.done;

    expect(s, s.cause).toMatchObject({ status: 'FAILED', error: 'ApprovalTimedOut' });
    expect(s.cause).toContain('did not get 2 different approvals within');
    expect(s.cause).toContain('policy.approvalTimeoutHours');
    await expect(h.rt.approve(request, 'bob')).rejects.toMatchObject({ name: 'ApprovalExpired' });
  });
});
