import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig, type PipelineConfig } from '../../lambdas/lib/config.js';
import { trainKey } from '../../lambdas/lib/train.js';
import { trainInput, trainStatus } from '../../local/cli/train-status.js';
import { BAD_DIR, demoConfig, prodOf, startHarness, statesEntered, type Harness, type RawService } from '../support/harness.js';
import type { ApprovalRequested } from '../../local/runtime/runtime.js';

/**
 * Release trains through the real train.asl.json, whose members' legs are the real
 * release.asl.json executions (startExecution.sync:2), the real handlers and the local ledger.
 * Each test has its own train of its own services.
 */

const TRAINS = {
  ordered: { services: ['ord-a', 'ord-b', 'ord-c'], order: { prod: [['ord-c'], ['ord-a', 'ord-b']] }, maxConcurrency: 2 },
  stops: { services: ['stop-a', 'stop-b', 'stop-c'] },
  goes: { services: ['go-a', 'go-b', 'go-c'], continueOnFailure: { staging: true } },
  twice: { services: ['twice-a', 'twice-b'] },
};

let h: Harness;
let config: PipelineConfig;
beforeAll(async () => {
  const base = demoConfig({ services: Object.values(TRAINS).flatMap((t) => t.services) });
  config = parseConfig({ ...base, trains: TRAINS });
  h = await startHarness({ config });
});
afterAll(async () => h?.close());

const train = (name: string, version: string) => h.rt.startExecution('train', { train: name, version }).done;

/** Each member leg (a release execution) in the order it started: service and environment. */
function legsOf(history: { type: string; state?: { name: string; input?: unknown } }[]): string[] {
  return history
    .filter((e) => e.type === 'StateEntered' && e.state?.name === 'Release member')
    .map((e) => {
      const leg = e.state!.input as { service: string; environments: string[] };
      return `${leg.environments[0]}:${leg.service}`;
    });
}

const live = async (service: string, env: string) => (await h.rt.deps.ledger.getEnvironment(service, env))?.version;

describe('release trains, end to end', () => {
  it('releases every member environment by environment, groups in order, and status shows them', async () => {
    for (const s of TRAINS.ordered.services) await h.publish('v1.100.0', { service: s });
    const s = await train('ordered', 'v1.100.0');
    expect([s.status, s.error, s.cause]).toEqual(['SUCCEEDED', undefined, undefined]);
    const legs = legsOf(s.history);
    // dev and staging: the listed order, one per group; prod: ord-c first, then ord-a and ord-b together.
    expect(legs.slice(0, 6)).toEqual(['dev:ord-a', 'dev:ord-b', 'dev:ord-c', 'staging:ord-a', 'staging:ord-b', 'staging:ord-c']);
    expect(legs[6]).toBe('prod:ord-c');
    expect(legs.slice(7).sort()).toEqual(['prod:ord-a', 'prod:ord-b']);
    for (const m of TRAINS.ordered.services) for (const env of ['dev', 'staging', 'prod']) expect(await live(m, env)).toBe('v1.100.0');
    // One release per member, continued leg by leg by the same train execution.
    const record = await h.rt.deps.ledger.getRelease('ord-a', 'v1.100.0');
    expect(record?.attempt).toBe(3);
    expect(await h.rt.deps.ledger.getOutcome('ord-a', 'v1.100.0')).toMatchObject({ outcome: 'succeeded', environments: ['dev', 'staging', 'prod'] });
    expect(await trainStatus(h.rt.deps.ledger, config, 'ordered')).toEqual([
      'train ordered: dev → staging → prod',
      '  ord-a  dev v1.100.0  staging v1.100.0  prod v1.100.0',
      '  ord-b  dev v1.100.0  staging v1.100.0  prod v1.100.0',
      '  ord-c  dev v1.100.0  staging v1.100.0  prod v1.100.0',
    ]);
    const [trainRecord] = await h.rt.deps.ledger.decisions(trainKey('ordered'), 'v1.100.0');
    expect(trainRecord).toMatchObject({ step: 'train', verdict: 'done' });
  });

  it('a member failing smoke in staging stops the following groups there and the train; only it rolls back', async () => {
    for (const m of TRAINS.stops.services) {
      await h.publish('v1.0.0', { service: m });
      expect((await h.rt.startExecution('release', { service: m, version: 'v1.0.0' }).done).status).toBe('SUCCEEDED');
    }
    await h.publish('v1.1.0', { service: 'stop-a' });
    await h.publish('v1.1.0', { service: 'stop-b', dir: BAD_DIR }); // /api/orders fails: staging's smoke, not dev's
    await h.publish('v1.1.0', { service: 'stop-c' });
    const s = await train('stops', 'v1.1.0');
    expect(s.status).toBe('FAILED');
    expect(s.error).toBe('TrainStopped');
    expect(s.cause).toMatch(/^train stops v1\.1\.0: the train stopped in staging after stop-b \(.*smoke.*\) failed$/i);
    expect(legsOf(s.history)).toEqual(['dev:stop-a', 'dev:stop-b', 'dev:stop-c', 'staging:stop-a', 'staging:stop-b']);
    expect(statesEntered(s.history).at(-1)).toBe('Train stopped');
    // stop-a went; stop-b rolled back to its known-good; stop-c never went to staging; nobody to prod.
    expect([await live('stop-a', 'staging'), await live('stop-b', 'staging'), await live('stop-c', 'staging')]).toEqual(['v1.1.0', 'v1.0.0', 'v1.0.0']);
    for (const m of TRAINS.stops.services) expect(await live(m, 'prod')).toBe('v1.0.0');
    expect(await h.rt.deps.ledger.getOutcome('stop-b', 'v1.1.0')).toMatchObject({ outcome: 'rolled-back' });
    expect((await h.rt.deps.ledger.getEnvironment('stop-a', 'staging'))?.lastOutcome).not.toBe('rolled-back');
    // The record says why the others did not go.
    const why = async (m: string) => (await h.rt.deps.ledger.decisions(m, 'v1.1.0')).filter((d) => d.step === 'train').map((d) => [d.verdict, d.summary]);
    expect(await why('stop-c')).toEqual([['skipped', expect.stringMatching(/^train stops: released to dev; not released to staging, prod: the train stopped in staging after stop-b \(/)]]);
    expect(await why('stop-b')).toEqual([['failed', expect.stringMatching(/^train stops: released to dev; failed in staging: .*; not released to prod: /)]]);
    expect(await why('stop-a')).toEqual([['skipped', expect.stringMatching(/^train stops: released to dev, staging; not released to prod: the train stopped in staging/)]]);
    expect(await trainStatus(h.rt.deps.ledger, config, 'stops')).toEqual([
      'train stops: dev → staging → prod',
      '  stop-a  dev v1.1.0  staging v1.1.0  prod v1.0.0',
      '  stop-b  dev v1.1.0  staging v1.0.0  prod v1.0.0',
      '  stop-c  dev v1.1.0  staging v1.0.0  prod v1.0.0',
    ]);
  });

  it('with continueOnFailure in staging the following groups still go there, and the train stops before prod', async () => {
    await h.publish('v1.1.0', { service: 'go-a', dir: BAD_DIR });
    await h.publish('v1.1.0', { service: 'go-b' });
    await h.publish('v1.1.0', { service: 'go-c' });
    const s = await train('goes', 'v1.1.0');
    expect(s.error).toBe('TrainStopped');
    expect(legsOf(s.history)).toEqual(['dev:go-a', 'dev:go-b', 'dev:go-c', 'staging:go-a', 'staging:go-b', 'staging:go-c']);
    expect([await live('go-b', 'staging'), await live('go-c', 'staging')]).toEqual(['v1.1.0', 'v1.1.0']);
    // go-a had nothing known-good in staging to go back to: it is marked unhealthy there, and the train does not move on.
    expect(await h.rt.deps.ledger.getEnvironment('go-a', 'staging')).toMatchObject({ healthy: false });
    expect((await h.rt.deps.ledger.getOutcome('go-a', 'v1.1.0'))?.outcome).toMatch(/rolled-back|failed/);
    expect(s.cause).toMatch(/the train stopped in staging after go-a \(/);
    for (const m of TRAINS.goes.services) expect(await live(m, 'prod')).toBeUndefined();
  });

  it('a second train execution of a version every member already serves deploys nothing: each leg is a duplicate, each member known-good', async () => {
    for (const m of TRAINS.twice.services) await h.publish('v3.0.0', { service: m });
    expect((await train('twice', 'v3.0.0')).status).toBe('SUCCEEDED');
    const again = await train('twice', 'v3.0.0');
    expect(again.status).toBe('SUCCEEDED');
    const legOutputs = again.history.filter((e) => e.type === 'StateExited' && (e as { state?: { name: string } }).state?.name === 'Member released').map((e) => (e as unknown as { state: { output: { output: { claim: { claimed: boolean; reason: string } } } } }).state.output.output.claim);
    expect(legOutputs).toHaveLength(6);
    for (const claim of legOutputs) expect(claim).toMatchObject({ claimed: false, reason: expect.stringMatching(/^DUPLICATE: twice-[ab]@v3\.0\.0 was already started/) });
    expect((await h.rt.deps.ledger.getRelease('twice-a', 'v3.0.0'))?.attempt).toBe(3);
  });

  it('a train leg names exactly one environment', async () => {
    const s = await h.rt.startExecution('release', { service: 'twice-b', version: 'v3.0.1', environments: ['dev', 'staging'], train: { name: 'twice', execution: 'x' } }).done;
    expect([s.status, s.error]).toEqual(['FAILED', 'InvalidInput']);
    expect(s.cause).toMatch(/^environments: a train leg names exactly one of this service's environments \["dev","staging","prod"\]; got \["dev","staging"\]/);
  });

  it('status --train of an unknown train says which trains there are', async () => {
    await expect(trainStatus(h.rt.deps.ledger, config, 'stop')).rejects.toThrow('--train stop: no such train; did you mean --train stops? (trains in the config: ordered, stops, goes, twice)');
    expect(() => trainInput(config, 'orderd', 'v1.0.0')).toThrow('--train orderd: no such train; did you mean --train ordered?');
    expect(trainInput(config, 'ordered', 'v1.0.0')).toEqual({ train: 'ordered', version: 'v1.0.0' });
  });

  it('an unknown train fails at the first state, naming the field', async () => {
    const s = await train('nope', 'v1.0.0');
    expect([s.status, s.error]).toEqual(['FAILED', 'InvalidInput']);
    expect(s.cause).toMatch(/train: no train "nope" in the pipeline config; configured trains: ordered, stops, goes, twice/);
  });
});

describe('stopping a train', () => {
  let g: Harness;
  beforeAll(async () => {
    // Prod of halt-a waits for a person: the leg is still running when the train is stopped.
    const gated = (svc: RawService) => void (prodOf(svc).approval = { from: ['alice'] });
    const base = demoConfig({ services: { 'halt-a': gated }, policy: { githubLogins: { alice: 'alice-gh' } } });
    g = await startHarness({ config: parseConfig({ ...base, trains: { halted: { services: ['halt-a'] } } }) });
  });
  afterAll(async () => g?.close());

  it('stops the member release it is waiting for, as Step Functions does with .sync children, and that release is reconciled', async () => {
    await g.publish('v1.0.0', { service: 'halt-a' });
    const asked = new Promise<ApprovalRequested>((resolve) => {
      const off = g.rt.onApprovalRequested((r) => (off(), resolve(r)));
    });
    const run = g.rt.startExecution('train', { train: 'halted', version: 'v1.0.0' });
    const request = await asked;
    expect(request).toMatchObject({ service: 'halt-a', environment: 'prod', kind: 'promotion' });
    const leg = g.rt.runningExecutions().find((e) => e.executionArn === request.executionArn)!;
    expect(leg).toBeDefined();
    run.abort({ error: 'Stopped', cause: 'by hand' });
    const [train, child] = await Promise.all([run.done, leg.done]);
    expect(train.status).toBe('ABORTED');
    expect(child.status).toBe('ABORTED');
    expect(child.cause).toBe(`its parent execution ${run.executionArn} was stopped`);
    expect((await g.rt.deps.ledger.getOutcome('halt-a', 'v1.0.0'))?.outcome).toBe('aborted');
    expect(g.rt.runningExecutions()).toEqual([]);
  });
});
