import { afterEach, describe, expect, it } from 'vitest';
import { StsCallerIdentity } from '../../lambdas/adapters/sts-caller-identity.js';
import { handleApprovalRequest } from '../../lambdas/lib/approval-http.js';
import { parseConfig, type PipelineConfig } from '../../lambdas/lib/config.js';
import { systemClock, type Clock } from '../../lambdas/lib/ports.js';
import type { ApprovalRequested, LocalRuntime } from '../../local/runtime/runtime.js';
import { signDecision } from '../../local/cli/approval-signing.js';
import { FakeSts, type FakeKey } from '../support/fake-sts.js';
import { exampleConfigJson, startHarness, statesEntered, type Harness } from '../support/harness.js';
import { SAMPLE_POLICY } from '../support/policy.js';

/**
 * The two-person rule through the real release.asl.json: approvals signed as AWS principals
 * reach the release through the approval function's core, and after every wait the machine
 * re-reads the ledger (`Verify approval`, `Verify canary hold`), so a task token answered by
 * hand (`states:SendTaskSuccess`) ends the wait but never the gate.
 */

const ACCOUNT = '111122223333';
const ALICE: FakeKey = { accessKeyId: 'AKIAALICEXXXXXXXXXXX', secretAccessKey: 'alice-secret', arn: `arn:aws:iam::${ACCOUNT}:user/alice` };
const BOB: FakeKey = { accessKeyId: 'ASIABOBXXXXXXXXXXXXX', secretAccessKey: 'bob-secret', sessionToken: 'bob-session', arn: `arn:aws:sts::${ACCOUNT}:assumed-role/AWSReservedSSO_Approvers_0123456789abcdef/bob@acme.io` };
const CAROL: FakeKey = { accessKeyId: 'AKIACAROLXXXXXXXXXXX', secretAccessKey: 'carol-secret', arn: `arn:aws:iam::${ACCOUNT}:user/carol` };
const APPROVERS = [ALICE.arn, BOB.arn, CAROL.arn];

function config(opts: { hold?: boolean } = {}): PipelineConfig {
  const raw = exampleConfigJson();
  for (const env of raw.services.demo!.environments) {
    if (opts.hold && env.name === 'prod') Object.assign(env.canary!, { steps: [10, 100], pollSeconds: 60, maxBakeSeconds: 120, onInconclusive: 'hold' });
    else delete env.canary;
  }
  return parseConfig({ ...raw, policy: opts.hold ? { approvers: APPROVERS } : { ...SAMPLE_POLICY, approvers: APPROVERS } });
}

/** Real time, moved into the year-end freeze (prod closed: an emergency needs approvals). */
function inTheFreeze(): Clock {
  const offset = Date.parse('2026-12-22T10:00:00Z') - Date.now();
  return { now: () => new Date(Date.now() + offset), sleep: systemClock.sleep };
}

const nextRequest = (rt: LocalRuntime) =>
  new Promise<ApprovalRequested>((resolve) => {
    const off = rt.onApprovalRequested((r) => {
      off();
      resolve(r);
    });
  });

/** What the approval function does with `who`'s signed decision, STS verifying the signature. */
async function approveAs(h: Harness, who: FakeKey, request: ApprovalRequested, decision = 'approve') {
  const sts = new FakeSts([ALICE, BOB, CAROL]);
  const signed = await signDecision('https://abc.lambda-url.eu-west-1.on.aws/', { service: request.service, version: request.version, environment: request.environment, decision }, who, 'eu-west-1', h.rt.deps.clock.now());
  return handleApprovalRequest({ urlSignerArn: who.arn, account: ACCOUNT, body: signed.body }, { ...h.rt.deps, identity: new StsCallerIdentity(sts.fetch) });
}

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('an emergency release approved by signed AWS principals', () => {
  it('ships after an IAM user and an IAM Identity Center session approve, verified after the wait', async () => {
    h = await startHarness({ config: config(), clock: inTheFreeze() });
    await h.publish('v1.0.0');
    const requested = nextRequest(h.rt);
    const run = h.rt.startExecution('release', { service: 'demo', version: 'v1.0.0', emergency: { reason: 'card payments failing' } });
    const request = await requested;
    expect(await approveAs(h, ALICE, request)).toMatchObject({ status: 200, body: { outcome: { status: 'pending' } } });
    expect(await approveAs(h, BOB, request)).toMatchObject({ status: 200, body: { outcome: { status: 'approved', approvers: [ALICE.arn, BOB.arn] } } });
    const s = await run.done;
    expect(s.status).toBe('SUCCEEDED');
    expect(statesEntered(s.history)).toEqual(expect.arrayContaining(['Request approval', 'Verify approval', 'Acquire environment lock']));
    expect((await h.rt.deps.ledger.getEnvironment('demo', 'prod'))?.version).toBe('v1.0.0');
  });
});

describe('a task token answered by hand (bypass 4)', () => {
  it('fails the emergency release with ApprovalNotVerified: one real approval and a forged SendTaskSuccess deploy nothing to prod', async () => {
    h = await startHarness({ config: config(), clock: inTheFreeze() });
    await h.publish('v1.0.0');
    const requested = nextRequest(h.rt);
    const run = h.rt.startExecution('release', { service: 'demo', version: 'v1.0.0', emergency: { reason: 'card payments failing' } });
    const request = await requested;
    await approveAs(h, ALICE, request);
    // The token is in the ledger's approval item (and the execution history): anyone with states:SendTaskSuccess can send it.
    const record = await h.rt.deps.approvals.get(request);
    await h.rt.deps.taskTokens.succeed(record!.taskToken, { kind: 'emergency', decision: 'approve', approvers: [ALICE.arn, BOB.arn] });
    const s = await run.done;
    expect(s.status).toBe('FAILED');
    expect(s.error).toBe('ApprovalNotVerified');
    expect(s.cause).toContain('the request is pending, not approved');
    expect(s.cause).toContain('it holds 1 valid approval of the 2 it needs');
    const entered = statesEntered(s.history);
    expect(entered.slice(entered.indexOf('Request approval'))).not.toContain('Acquire environment lock');
    expect(await h.promotedAnywhere('demo', 'v1.0.0')).not.toContain('prod');
    expect(await h.rt.deps.ledger.getOutcome('demo', 'v1.0.0')).toMatchObject({ outcome: 'failed', error: 'ApprovalNotVerified' });
    const failed = (await h.rt.deps.ledger.decisions('demo', 'v1.0.0')).filter((d) => d.step === 'approval' && d.verdict === 'failed');
    expect(failed).toHaveLength(1);
  });

  it('rolls back a held canary promoted by a forged SendTaskSuccess, leaving the live version serving', async () => {
    h = await startHarness({ config: config({ hold: true }), waits: { 'Bake canary': 50 } });
    await h.publish('v1.0.0');
    expect((await h.rt.startExecution('release', { service: 'demo', version: 'v1.0.0' }).done).status).toBe('SUCCEEDED');
    await h.publish('v1.0.1');
    const requested = nextRequest(h.rt);
    const run = h.rt.startExecution('release', { service: 'demo', version: 'v1.0.1' });
    const request = await requested;
    expect(request).toMatchObject({ kind: 'canary-hold' });
    const record = await h.rt.deps.approvals.get({ ...request, kind: 'canary-hold' });
    await h.rt.deps.taskTokens.succeed(record!.taskToken, { kind: 'canary-hold', decision: 'promote', approvers: [ALICE.arn] });
    const s = await run.done;
    expect(s.status).toBe('FAILED');
    expect(statesEntered(s.history)).toEqual(expect.arrayContaining(['Hold canary', 'Verify canary hold', 'Roll back environment']));
    expect(statesEntered(s.history)).not.toContain('Shift canary traffic');
    expect(await h.rt.deps.ledger.getOutcome('demo', 'v1.0.1')).toMatchObject({ outcome: 'rolled-back' });
    expect((await h.rt.deps.ledger.getEnvironment('demo', 'prod'))?.version).toBe('v1.0.0');
    expect(h.rt.fleet.canary('demo', 'prod')).toBeUndefined();
  });
});

describe('a release stopped while it waits for approvals', () => {
  it('expires its request, so an approver learns at once that nothing waits any more', async () => {
    h = await startHarness({ config: config(), clock: inTheFreeze() });
    await h.publish('v1.0.0');
    const requested = nextRequest(h.rt);
    const run = h.rt.startExecution('release', { service: 'demo', version: 'v1.0.0', emergency: { reason: 'card payments failing' } });
    const request = await requested;
    expect(await approveAs(h, ALICE, request)).toMatchObject({ status: 200 });
    run.abort({ error: 'Stopped', cause: 'stopped from the console' });
    expect((await run.done).status).toBe('ABORTED');
    expect(await h.rt.deps.approvals.get(request)).toMatchObject({ status: 'expired', approvals: [{ approver: ALICE.arn }] });
    expect(await approveAs(h, BOB, request)).toMatchObject({ status: 410, body: { error: 'ApprovalExpired', message: expect.stringContaining('no longer waits for a decision') } });
  });
});
