import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PipelineConfig } from '../../lambdas/lib/config.js';
import type { ApprovalRequested, LocalRuntime } from '../../local/runtime/runtime.js';
import { demoConfig, prodOf, startHarness, statesEntered, type Harness } from '../support/harness.js';

/**
 * `onInconclusive: "hold"` through the real release.asl.json: a canary with no traffic is
 * inconclusive at its bake bound (two looks here), so it is held at its weight until an
 * approver decides through the same request and decision core as the emergency gate. Each
 * test releases its own service (a copy of demo), from its first release on.
 */

function holdConfig(approvalTimeoutHours: number, services: string[]): PipelineConfig {
  const hold = (s: Parameters<typeof prodOf>[0]) => void Object.assign(prodOf(s).canary!, { steps: [10, 50, 100], pollSeconds: 60, maxBakeSeconds: 120, onInconclusive: 'hold' });
  return demoConfig({ canary: true, services: Object.fromEntries(services.map((name) => [name, hold])), policy: { approvers: ['alice', 'bob', 'carol'], approvalTimeoutHours } });
}

const nextRequest = (rt: LocalRuntime) =>
  new Promise<ApprovalRequested>((resolve) => {
    const off = rt.onApprovalRequested((r) => {
      off();
      resolve(r);
    });
  });

async function firstRelease(h: Harness, service: string): Promise<void> {
  await h.publish('v1.0.0', { service });
  // Nothing live yet: no baseline, so prod takes v1.0.0 at once.
  const first = await h.rt.startExecution('release', { service, version: 'v1.0.0' }).done;
  expect(first.status).toBe('SUCCEEDED');
}

describe('a canary held for a decision', () => {
  let h: Harness;
  const prod = (service: string) => h.rt.deps.ledger.getEnvironment(service, 'prod');
  beforeAll(async () => {
    h = await startHarness({ config: holdConfig(24, ['promoted', 'rejected']), waits: { 'Bake canary': 50 } });
  });
  afterAll(async () => h?.close());

  it('keeps its weight while held, and goes on to 100% when an approver promotes it at each step', async () => {
    const service = 'promoted';
    await firstRelease(h, service);
    await h.publish('v1.0.1', { service });
    let requested = nextRequest(h.rt);
    const run = h.rt.startExecution('release', { service, version: 'v1.0.1' });
    const atTen = await requested;
    expect(atTen).toMatchObject({ kind: 'canary-hold', service, version: 'v1.0.1', environment: 'prod', needed: 1, approvers: ['alice', 'bob', 'carol'] });

    // Held: the canary stays at 10%, and nothing moves while nobody decides.
    const stillWaiting = await Promise.race([run.done.then(() => 'ended'), new Promise((r) => setTimeout(() => r('waiting'), 300))]);
    expect(stillWaiting).toBe('waiting');
    expect(h.rt.fleet.canary(service, 'prod')).toEqual({ version: 'v1.0.1', weight: 10 });
    const held = await prod(service);
    expect(held).toMatchObject({ version: 'v1.0.0', canary: { version: 'v1.0.1', weight: 10 }, lockHolder: run.executionArn });
    // The lock outlives the hold, so no other release can deploy over the canary meanwhile.
    expect(held!.lockExpiresAt!).toBeGreaterThan(Date.now() + 23 * 3_600_000);

    // The request keeps the judge's last evidence, and the event says what to decide and how.
    const request = await h.rt.deps.approvals.get(atTen);
    expect(request).toMatchObject({ kind: 'canary-hold', status: 'pending', hold: { weight: 10, step: 1, evidence: { weight: 10, poll: 2, of: 2 } }, executionId: run.executionArn });
    expect(request!.reason).toContain('still inconclusive in prod at 10% after 2 looks, the bake bound');
    const event = h.rt.emitted.find((e) => e.DetailType === 'Approval Requested' && (e.Detail as { service: string }).service === service && (e.Detail as { version: string }).version === 'v1.0.1');
    expect(event?.Detail).toMatchObject({ kind: 'canary-hold', service, environment: 'prod', needed: 1, weight: 10, decisions: ['promote', 'rollback'], approvers: ['alice', 'bob', 'carol'] });
    expect((event!.Detail as { howToApprove: string }).howToApprove).toContain('--approve NAME');

    await expect(h.rt.approve(atTen, 'mallory')).rejects.toMatchObject({ name: 'ApproverNotAllowed' });
    requested = nextRequest(h.rt);
    expect(await h.rt.approve(atTen, 'alice')).toMatchObject({ kind: 'canary-hold', status: 'approved', approvers: ['alice'], needed: 1 });

    // Still no traffic at 50%: held again, a fresh request that the last decision does not decide.
    const atFifty = await requested;
    expect(h.rt.fleet.canary(service, 'prod')).toEqual({ version: 'v1.0.1', weight: 50 });
    expect(await h.rt.deps.approvals.get(atFifty)).toMatchObject({ status: 'pending', approvals: [], hold: { weight: 50, step: 2 } });
    expect(await h.rt.approve(atFifty, 'bob')).toMatchObject({ status: 'approved', approvers: ['bob'] });
    const s = await run.done;

    expect([s.status, s.error, s.cause]).toEqual(['SUCCEEDED', undefined, undefined]);
    expect(statesEntered(s.history).filter((n) => n === 'Hold canary')).toHaveLength(2);
    expect(await prod(service)).toMatchObject({ version: 'v1.0.1', healthy: true, canary: null });
    expect(h.rt.fleet.version(service, 'prod')).toBe('v1.0.1');
    expect(h.rt.fleet.canary(service, 'prod')).toBeUndefined();
    const decided = await h.rt.deps.approvals.get(atFifty);
    expect(decided).toMatchObject({ status: 'approved', approvals: [{ approver: 'bob' }] });
    const approvals = (await h.rt.deps.ledger.decisions(service, 'v1.0.1')).filter((d) => d.step === 'approval');
    expect(approvals.map((d) => d.verdict)).toEqual(['waiting', 'passed', 'waiting', 'passed']);
    expect(approvals[1]!.summary).toMatch(new RegExp(`^alice promoted the held canary of ${service} v1\\.0\\.1 in prod at 20`));
    // Never a silent pass: the judge never passed it, people did.
    const judged = (await h.rt.deps.ledger.decisions(service, 'v1.0.1')).filter((d) => d.step === 'judge');
    expect(judged.map((d) => d.verdict)).toEqual(['waiting', 'waiting', 'waiting', 'waiting']);
    expect(judged[1]!.summary).toContain('held at 10% for a decision from alice, bob, carol (onInconclusive: hold)');
  });

  it('rolls back with the baseline on 100% when an approver decides rollback, naming them', async () => {
    const service = 'rejected';
    await firstRelease(h, service);
    await h.publish('v1.0.1', { service });
    const requested = nextRequest(h.rt);
    const run = h.rt.startExecution('release', { service, version: 'v1.0.1' });
    const request = await requested;
    expect(await h.rt.reject(request, 'carol', 'no traffic to judge it on')).toMatchObject({ kind: 'canary-hold', status: 'rejected' });
    const s = await run.done;

    expect(s).toMatchObject({ status: 'FAILED', error: 'CanaryRejected' });
    expect(s.cause).toContain(`carol rolled back the held canary of ${service} v1.0.1 in prod`);
    expect(s.cause).toContain('no traffic to judge it on');
    expect(await prod(service)).toMatchObject({ version: 'v1.0.0', healthy: true, canary: null, lastOutcome: 'rolled-back' });
    expect((await prod(service))!.lockHolder).toBeUndefined();
    expect(h.rt.fleet.version(service, 'prod')).toBe('v1.0.0');
    expect(h.rt.fleet.canary(service, 'prod')).toBeUndefined();
    const outcome = await h.rt.deps.ledger.getOutcome(service, 'v1.0.1');
    expect(outcome).toMatchObject({ outcome: 'rolled-back', error: 'CanaryRejected' });
    expect(outcome!.reason).toContain('carol rolled back');
    expect(await h.rt.deps.approvals.get(request)).toMatchObject({ status: 'rejected', rejectedBy: { approver: 'carol', comment: 'no traffic to judge it on' } });
    // Decided is decided.
    await expect(h.rt.approve(request, 'alice')).rejects.toMatchObject({ name: 'ApprovalNotPending' });
  });
});

describe('a held canary nobody decides', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ config: holdConfig(1 / 3600, ['undecided']), waits: { 'Bake canary': 50 } });
  });
  afterAll(async () => h?.close());

  it('fails safe after policy.approvalTimeoutHours: rolled back, saying why', async () => {
    const service = 'undecided';
    await firstRelease(h, service);
    await h.publish('v1.0.1', { service });
    const requested = nextRequest(h.rt);
    const run = h.rt.startExecution('release', { service, version: 'v1.0.1' });
    const request = await requested;
    const s = await run.done;

    expect(s, s.cause).toMatchObject({ status: 'FAILED', error: 'CanaryHoldTimedOut' });
    expect(s.cause).toContain('held at 10% of prod got no promote or rollback decision within');
    expect(s.cause).toContain('policy.approvalTimeoutHours');
    expect(await h.rt.deps.ledger.getEnvironment(service, 'prod')).toMatchObject({ version: 'v1.0.0', canary: null, lastOutcome: 'rolled-back' });
    expect(h.rt.fleet.version(service, 'prod')).toBe('v1.0.0');
    expect(h.rt.fleet.canary(service, 'prod')).toBeUndefined();
    await expect(h.rt.approve(request, 'alice')).rejects.toMatchObject({ name: 'ApprovalExpired' });
  });
});
