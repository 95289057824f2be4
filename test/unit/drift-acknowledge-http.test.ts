import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../lambdas/adapters/json-logger.js';
import { StsCallerIdentity } from '../../lambdas/adapters/sts-caller-identity.js';
import { handleApprovalUrlRequest } from '../../lambdas/lib/approval-url.js';
import { type FreezeAction, freezeBindingOf } from '../../lambdas/lib/freeze-http.js';
import type { Ledger } from '../../lambdas/lib/ports.js';
import type { DriftMark, EnvironmentState } from '../../lambdas/lib/types.js';
import { signBody } from '../../local/cli/approval-signing.js';
import { demoConfig } from '../support/harness.js';
import { FakeSts, type FakeKey } from '../support/fake-sts.js';

/**
 * `tagflow drift --acknowledge --stack` (issue 16): through the approval URL, signed like a
 * freeze; only policy.approvers; the acknowledgement names the signer STS verified.
 */

const ACCOUNT = '111122223333';
const URL_ = 'https://abc123.lambda-url.eu-west-1.on.aws/';
const NOW = new Date('2026-12-01T10:00:00Z');
const key = (id: string): FakeKey => ({ accessKeyId: `AKIA${id.toUpperCase().padEnd(16, 'X')}`, secretAccessKey: `secret-of-${id}`, arn: `arn:aws:iam::${ACCOUNT}:user/${id}` });
const ALICE = key('alice');
const MALLORY = key('mallory');
const DRIFT: DriftMark = { detectedAt: '2026-12-01T09:45:00.000Z', expected: 'v1.0.0', actual: 'v1.1.0, which no release recorded here', differences: ['serves v1.1.0, which no release recorded here where the ledger has v1.0.0'] };

function setup() {
  const sts = new FakeSts([ALICE, MALLORY]);
  let state: EnvironmentState = { service: 'demo', environment: 'prod', version: 'v1.0.0', healthy: true, goodVersions: ['v1.0.0'], refs: {}, revision: 3, drift: DRIFT };
  const ledger = {
    getEnvironment: async (_s: string, env: string) => (env === 'prod' ? structuredClone(state) : undefined),
    markDrift: async (_s: string, _e: string, mark: DriftMark | null, revision: number) => (revision === state.revision ? ((state = { ...state, drift: mark, revision: revision + 1 }), true) : false),
  } as unknown as Ledger;
  const config = { ...demoConfig(), policy: { approvers: [ALICE.arn], approvalTimeoutHours: 24, windows: [], freezes: [], maxWaitHours: 24 } } as never;
  const deps = { config: async () => config, ledger, clock: { now: () => NOW, sleep: async () => {} }, log: silentLogger, identity: new StsCallerIdentity(sts.fetch), approvals: undefined as never, taskTokens: undefined as never };
  const send = async (who: FakeKey, action: FreezeAction, binding = freezeBindingOf(action)) => {
    const signed = await signBody(URL_, { ...action }, binding, who, 'eu-west-1', NOW);
    return handleApprovalUrlRequest({ urlSignerArn: who.arn, account: ACCOUNT, body: signed.body }, deps);
  };
  return { sts, send, state: () => state };
}

const ACK: FreezeAction = { action: 'acknowledge-drift', service: 'demo', environment: 'prod', reason: 'INC-7: hotfix applied by hand' };

describe('acknowledging a drift through the approval URL', () => {
  it('records the signer STS names, bound to exactly this acknowledgement', async () => {
    const t = setup();
    expect(await t.send(ALICE, ACK)).toMatchObject({ status: 200, body: { message: 'acknowledged the drift of demo prod (the ledger has v1.0.0; it serves v1.1.0, which no release recorded here)', drift: { acknowledged: { by: ALICE.arn, at: NOW.toISOString(), reason: ACK.reason } } } });
    expect(t.state().drift?.acknowledged?.by).toBe(ALICE.arn);
    expect(t.sts.calls.map((c) => c.headers['x-tagflow-approval'])).toEqual([freezeBindingOf(ACK)]);
    expect(freezeBindingOf(ACK)).toMatch(/^tagflow-freeze\/1 action=acknowledge-drift service=demo environment=prod reason=[0-9a-f]{64}$/);
  });

  it('refuses anyone not in policy.approvers, and a proof made for another acknowledgement; writes nothing', async () => {
    const t = setup();
    expect(await t.send(MALLORY, ACK)).toMatchObject({ status: 403, body: { error: 'ApproverNotAllowed', message: expect.stringContaining('only policy.approvers may acknowledge-drift') } });
    const other = freezeBindingOf({ ...ACK, environment: 'staging' } as FreezeAction);
    expect((await t.send(ALICE, ACK, other)).status).toBe(403);
    expect(t.state().drift?.acknowledged).toBeUndefined();
  });

  it('names the missing field, and says when there is nothing to acknowledge', async () => {
    const t = setup();
    expect(await t.send(ALICE, { ...ACK, reason: '' } as FreezeAction)).toMatchObject({ status: 400, body: { error: 'InvalidInput', message: expect.stringContaining('reason: expected a string') } });
    expect(await t.send(ALICE, { ...ACK, environment: 'staging' } as FreezeAction)).toMatchObject({ status: 400, body: { error: 'DriftAcknowledgeError', message: 'staging of demo is not marked drifted: nothing to acknowledge (tagflow drift checks it now)' } });
  });
});
