import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../lambdas/adapters/json-logger.js';
import { StsCallerIdentity } from '../../lambdas/adapters/sts-caller-identity.js';
import { bindingOf } from '../../lambdas/lib/approval-proof.js';
import { handleApprovalUrlRequest } from '../../lambdas/lib/approval-url.js';
import { type FreezeAction, freezeBindingOf } from '../../lambdas/lib/freeze-http.js';
import type { Ledger, LedgerFreeze } from '../../lambdas/lib/ports.js';
import { signBody } from '../../local/cli/approval-signing.js';
import { demoConfig } from '../support/harness.js';
import { FakeSts, type FakeKey } from '../support/fake-sts.js';

/**
 * A freeze in AWS names whoever STS says signed a GetCallerIdentity bound to exactly that
 * freeze; only policy.approvers may freeze or unfreeze; a proof made for one request is refused
 * for any other (another freeze, or an approval).
 */

const ACCOUNT = '111122223333';
const URL_ = 'https://abc123.lambda-url.eu-west-1.on.aws/';
const NOW = new Date('2026-12-01T10:00:00Z');
const key = (id: string): FakeKey => ({ accessKeyId: `AKIA${id.toUpperCase().padEnd(16, 'X')}`, secretAccessKey: `secret-of-${id}`, arn: `arn:aws:iam::${ACCOUNT}:user/${id}` });
const ALICE = key('alice');
const MALLORY = key('mallory');

/** The ledger's freezes in memory: only what the freeze core calls. */
function freezeLedger() {
  const items = new Map<string, LedgerFreeze>();
  const ledger = {
    createFreeze: async (f: LedgerFreeze) => (items.has(f.name) && !items.get(f.name)!.unfrozenAt ? { created: false as const, existing: items.get(f.name)! } : (items.set(f.name, f), { created: true as const })),
    endFreeze: async (name: string, by: string, at: string) => {
      const f = items.get(name);
      if (!f || f.unfrozenAt) return undefined;
      const ended = { ...f, unfrozenBy: by, unfrozenAt: at };
      items.set(name, ended);
      return ended;
    },
    freezes: async () => [...items.values()],
  } as unknown as Ledger;
  return { ledger, items };
}

function setup() {
  const sts = new FakeSts([ALICE, MALLORY]);
  const { ledger, items } = freezeLedger();
  const config = { ...demoConfig(), policy: { approvers: [ALICE.arn], approvalTimeoutHours: 24, windows: [], freezes: [], maxWaitHours: 24 } } as never;
  const deps = { config: async () => config, ledger, clock: { now: () => NOW, sleep: async () => {} }, log: silentLogger, identity: new StsCallerIdentity(sts.fetch), approvals: undefined as never, taskTokens: undefined as never };
  const send = async (who: FakeKey, action: FreezeAction, opts: { binding?: string; alter?: (b: Record<string, unknown>) => Record<string, unknown> } = {}) => {
    const signed = await signBody(URL_, { ...action }, opts.binding ?? freezeBindingOf(action), who, 'eu-west-1', NOW);
    const body = JSON.stringify((opts.alter ?? ((b) => b))(JSON.parse(signed.body)));
    return handleApprovalUrlRequest({ urlSignerArn: who.arn, account: ACCOUNT, body }, deps);
  };
  return { sts, items, send };
}

const FREEZE: FreezeAction = { action: 'freeze', name: 'inc-1', environments: ['prod'], until: '2026-12-02T09:00Z', reason: 'INC-1: payments down' };

describe('freezes through the approval URL', () => {
  it('records the signer STS names, for a freeze and its unfreeze', async () => {
    const t = setup();
    expect(await t.send(ALICE, FREEZE)).toMatchObject({ status: 200, body: { freeze: { name: 'inc-1', environments: ['prod'], frozenBy: ALICE.arn, frozenAt: NOW.toISOString() } } });
    expect(await t.send(ALICE, { action: 'unfreeze', name: 'inc-1' })).toMatchObject({ status: 200, body: { freeze: { unfrozenBy: ALICE.arn } } });
    expect(t.sts.calls.map((c) => c.headers['x-tagflow-approval'])).toEqual([freezeBindingOf(FREEZE), 'tagflow-freeze/1 action=unfreeze name=inc-1']);
  });

  it('refuses anyone not in policy.approvers, and writes nothing', async () => {
    const t = setup();
    expect(await t.send(MALLORY, FREEZE)).toMatchObject({ status: 403, body: { error: 'ApproverNotAllowed', message: expect.stringContaining('only policy.approvers may freeze') } });
    expect(t.items.size).toBe(0);
  });

  it('refuses a proof made for another request: a changed reason or environment, or an approval', async () => {
    const t = setup();
    const widened = await t.send(ALICE, FREEZE, { alter: (b) => ({ ...b, reason: 'something else' }) });
    expect(widened).toMatchObject({ status: 403, body: { error: 'IdentityNotVerified' } });
    const moved = await t.send(ALICE, FREEZE, { alter: (b) => ({ ...b, environments: ['prod', 'staging'] }) });
    expect(moved).toMatchObject({ status: 403, body: { error: 'IdentityNotVerified' } });
    const approvalProof = await t.send(ALICE, FREEZE, { binding: bindingOf({ service: 'demo', version: 'v1', environment: 'prod', decision: 'approve' }) });
    expect(approvalProof).toMatchObject({ status: 403, body: { error: 'IdentityNotVerified' } });
    expect(t.items.size).toBe(0);
  });

  it('names the field of a bad freeze', async () => {
    const t = setup();
    expect(await t.send(ALICE, { ...FREEZE, environments: ['qa'] })).toMatchObject({ status: 400, body: { message: expect.stringContaining('--environments: no service has an environment "qa"') } });
    const res = await handleApprovalUrlRequest({ urlSignerArn: ALICE.arn, account: ACCOUNT, body: JSON.stringify({ action: 'freeze', name: 'x' }) }, { config: async () => demoConfig(), ledger: freezeLedger().ledger, clock: { now: () => NOW, sleep: async () => {} }, log: silentLogger, identity: new StsCallerIdentity(new FakeSts([]).fetch), approvals: undefined as never, taskTokens: undefined as never });
    expect(res).toMatchObject({ status: 400, body: { error: 'InvalidInput', message: expect.stringMatching(/environments.*until.*reason/s) } });
  });
});
