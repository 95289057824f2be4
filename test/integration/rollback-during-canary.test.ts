import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ApprovalRequested, ExecutionHandle, LocalRuntime } from '../../local/runtime/runtime.js';
import { BAD_DIR, ROOT, demoConfig, prodOf, startHarness, statesEntered, type Harness, type RawService } from '../support/harness.js';

/**
 * The rollback machine (real rollback.asl.json) started while a release is changing prod: the
 * suspect is the version that changed last, a canary first. Removing a canary puts all traffic
 * back on the live known-good version, stops the release, and ends it `rolled-back` with the
 * alarm (or the person) as the reason; the healthy live version is left alone. Each test
 * releases its own service (a copy of demo), from its first release on.
 */

const sample = JSON.parse(readFileSync(join(ROOT, 'examples', 'events', 'alarm-state-alarm.json'), 'utf8')) as { resources: string[]; detail: { alarmName: string } };
/** The sample alarm event, for the service's prod alarm (`SERVICE-prod-errors`), entering ALARM. */
function prodAlarm(service: string) {
  const e = structuredClone(sample);
  e.detail.alarmName = `${service}-prod-errors`;
  e.resources = e.resources.map((arn) => arn.replace(/:alarm:demo-prod-errors$/, `:alarm:${service}-prod-errors`));
  return e;
}

function alarmFires(h: Harness, service: string): ExecutionHandle {
  const { started } = h.rt.sendEvent(prodAlarm(service));
  expect(started.map((s) => s.rule)).toEqual(['alarm-to-rollback']);
  return started[0]!.execution;
}

async function shipFirst(h: Harness, service: string, version: string): Promise<void> {
  await h.publish(version, { service });
  // Nothing live yet: no baseline, so prod takes the version at once.
  expect((await h.rt.startExecution('release', { service, version }).done).status).toBe('SUCCEEDED');
}

/** Waits (on the ledger, not on the clock) until prod records the release's canary. */
async function canaryRecorded(h: Harness, service: string, version: string): Promise<void> {
  while ((await h.rt.deps.ledger.getEnvironment(service, 'prod'))?.canary?.version !== version) await new Promise((r) => setTimeout(r, 20));
}

/** Releases the test starts and expects the rollback to stop; one the rollback left running is stopped after the test, so a failure cannot hang the file. */
const running: ExecutionHandle[] = [];
function startRelease(h: Harness, service: string, version: string): ExecutionHandle {
  const run = h.rt.startExecution('release', { service, version });
  running.push(run);
  return run;
}
afterEach(() => {
  for (const run of running.splice(0)) run.abort();
});

const rolledBackEvents = (h: Harness, service: string) => h.rt.emitted.filter((e) => e.DetailType === 'Release Rolled Back' && (e.Detail as { service?: string }).service === service);

describe('an alarm while a canary bakes', () => {
  let h: Harness;
  const prod = (service: string) => h.rt.deps.ledger.getEnvironment(service, 'prod');
  beforeAll(async () => {
    const noOrdersInStaging = (s: RawService) => {
      s.environments.find((e) => e.name === 'staging')!.smoke = s.environments.find((e) => e.name === 'staging')!.smoke.filter((c) => c.name === 'health');
      delete prodOf(s).canary;
      // prod retries /api/orders for ~10 s: a release of the bad build holds prod (deployed, its smoke tests failing) meanwhile.
      prodOf(s).smoke = prodOf(s).smoke.map((c) => (c.name === 'orders' ? { ...c, retries: 10, retryDelayMs: 1000 } : c));
    };
    // A Bake canary that outlasts every test: the canary stays at its first step until the rollback stops the release.
    h = await startHarness({
      config: demoConfig({ canary: true, services: { 'baking': null, 'baking-twice': null, 'baking-by-hand': null, 'deploying': noOrdersInStaging } }),
      waits: { 'Bake canary': 600_000 },
    });
  });
  afterAll(async () => h?.close());

  it('removes the canary, stops the release and records it rolled back, leaving the live version alone (prod v2.3.0, v2.4.0 at 10%)', async () => {
    const service = 'baking';
    await shipFirst(h, service, 'v2.3.0');
    await h.publish('v2.4.0', { service });
    const release = startRelease(h, service, 'v2.4.0');
    await canaryRecorded(h, service, 'v2.4.0');
    expect(h.rt.fleet.canary(service, 'prod')).toEqual({ version: 'v2.4.0', weight: 10 });

    const rb = await alarmFires(h, service).done;

    expect([rb.status, rb.error, rb.cause]).toEqual(['SUCCEEDED', undefined, undefined]);
    expect(statesEntered(rb.history)).toEqual(expect.arrayContaining(['Stop running release', 'Restore known-good version']));
    expect(rb.output).toMatchObject({ prepared: { action: 'remove-canary', fromVersion: 'v2.4.0', toVersion: 'v2.3.0', stopExecution: release.executionArn } });
    expect((await release.done).status).toBe('ABORTED');
    // All traffic on the live known-good version, as the ledger says.
    expect(h.rt.fleet.canary(service, 'prod')).toBeUndefined();
    expect(h.rt.fleet.version(service, 'prod')).toBe('v2.3.0');
    const state = await prod(service);
    expect(state).toMatchObject({ version: 'v2.3.0', healthy: true, canary: null, lastOutcome: 'rolled-back', goodVersions: ['v2.3.0'] });
    expect(state!.lockHolder).toBeUndefined();
    // The canary's release ends rolled back, the alarm its reason; v2.3.0 is not blamed.
    const outcome = await h.rt.deps.ledger.getOutcome(service, 'v2.4.0');
    expect(outcome).toMatchObject({ outcome: 'rolled-back', executionId: release.executionArn, environments: ['dev', 'staging'] });
    expect(outcome!.reason).toContain(`alarm ${service}-prod-errors`);
    const removed = (await h.rt.deps.ledger.decisions(service, 'v2.4.0')).filter((d) => d.step === 'rollback');
    expect(removed.map((d) => [d.environment, d.verdict])).toEqual([['prod', 'done']]);
    expect(removed[0]!.summary).toMatch(new RegExp(`^canary v2\\.4\\.0 removed from prod at 10%; all traffic on v2\\.3\\.0 — alarm ${service}-prod-errors`));
    expect(outcome!.reason).toContain('; canary v2.4.0 removed from prod at 10%; all traffic on v2.3.0');
    expect(outcome!.reason).not.toContain('back on');
    expect((await h.rt.deps.ledger.decisions(service, 'v2.3.0')).filter((d) => d.step === 'rollback')).toEqual([]);
    expect(rolledBackEvents(h, service)).toEqual([expect.objectContaining({ Detail: expect.objectContaining({ version: 'v2.4.0', restoredVersion: 'v2.3.0', environment: 'prod' }) })]);
    // Stopped by the rollback, which records its end: one story, not "aborted" and then "rolled back".
    expect(h.rt.emitted.filter((e) => e.DetailType === 'Release Aborted' && (e.Detail as { service: string }).service === service)).toEqual([]);
  });

  it('starts one canary removal when the alarm fires twice at once, and the next alarm finds nothing to roll back', async () => {
    const service = 'baking-twice';
    await shipFirst(h, service, 'v3.0.0');
    await h.publish('v3.1.0', { service });
    const release = startRelease(h, service, 'v3.1.0');
    await canaryRecorded(h, service, 'v3.1.0');

    const runs = await Promise.all([alarmFires(h, service).done, alarmFires(h, service).done]);
    expect(runs.map((r) => r.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    expect(runs.filter((r) => statesEntered(r.history).includes('Restore known-good version'))).toHaveLength(1);
    expect((await release.done).status).toBe('ABORTED');
    const later = await alarmFires(h, service).done;
    expect(statesEntered(later.history)).toContain('Nothing to roll back');
    expect(await prod(service)).toMatchObject({ version: 'v3.0.0', healthy: true, canary: null });
    expect((await h.rt.deps.ledger.decisions(service, 'v3.1.0')).filter((d) => d.step === 'rollback' && d.verdict === 'done')).toHaveLength(1);
  });

  it('does the same for a rollback started by hand, with the person\'s reason', async () => {
    const service = 'baking-by-hand';
    await shipFirst(h, service, 'v4.0.0');
    await h.publish('v4.1.0', { service });
    const release = startRelease(h, service, 'v4.1.0');
    await canaryRecorded(h, service, 'v4.1.0');

    const rb = await h.rt.startExecution('rollback', { service, environment: 'prod', reason: 'checkout latency up since 14:02' }).done;
    expect(rb.status).toBe('SUCCEEDED');
    expect(await prod(service)).toMatchObject({ version: 'v4.0.0', healthy: true, canary: null, lastOutcome: 'rolled-back' });
    expect((await release.done).status).toBe('ABORTED');
    expect(h.rt.fleet.canary(service, 'prod')).toBeUndefined();
    const outcome = await h.rt.deps.ledger.getOutcome(service, 'v4.1.0');
    expect(outcome).toMatchObject({ outcome: 'rolled-back' });
    expect(outcome!.reason).toContain('manual rollback: checkout latency up since 14:02');
  });

  it('during a deploy, rolls back the release\'s own version and records the stopped release rolled back', async () => {
    const service = 'deploying';
    await shipFirst(h, service, 'v5.0.0');
    await h.publish('v5.1.0', { service, dir: BAD_DIR });
    const release = startRelease(h, service, 'v5.1.0');
    while ((await prod(service))?.version !== 'v5.1.0') await new Promise((r) => setTimeout(r, 20));

    const rb = await alarmFires(h, service).done;
    expect(rb.status).toBe('SUCCEEDED');
    expect(rb.output).toMatchObject({ prepared: { action: 'rollback', fromVersion: 'v5.1.0', toVersion: 'v5.0.0', stopExecution: release.executionArn } });
    expect((await release.done).status).toBe('ABORTED');
    expect(await prod(service)).toMatchObject({ version: 'v5.0.0', healthy: true, lastOutcome: 'rolled-back' });
    const outcome = await h.rt.deps.ledger.getOutcome(service, 'v5.1.0');
    expect(outcome).toMatchObject({ outcome: 'rolled-back', environments: ['dev', 'staging'] });
    expect(outcome!.reason).toContain(`alarm ${service}-prod-errors`);
  });
});

describe('a rollback that cannot tell which version is bad', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ config: demoConfig({ services: ['locked-unchanged'] }) });
  });
  afterAll(async () => h?.close());

  it('refuses, touching nothing, when a release holds prod but has recorded no traffic change there, and says what it knows', async () => {
    const service = 'locked-unchanged';
    for (const version of ['v7.0.0', 'v7.1.0']) {
      await h.publish(version, { service });
      expect((await h.rt.startExecution('release', { service, version }).done).status).toBe('SUCCEEDED');
    }
    // A release of v7.2.0 has claimed its record and taken prod's lock; it has not changed prod's traffic (as far as the ledger knows).
    const stuck = 'arn:aws:states:us-east-1:000000000000:execution:tagflow-release:v7-2-0-promoting';
    await h.rt.deps.ledger.claimRelease({ releaseId: `${service}@v7.2.0`, service, version: 'v7.2.0', trigger: { kind: 'manual' }, executionId: stuck, startedAt: h.rt.clock.now().toISOString(), plan: ['dev', 'staging', 'prod'], configSnapshot: '{}' });
    expect(await h.rt.deps.ledger.acquireLock(service, 'prod', stuck, h.rt.clock.now().getTime(), 600_000)).toMatchObject({ acquired: true });

    const rb = await alarmFires(h, service).done;
    expect(rb).toMatchObject({ status: 'FAILED', error: 'RollbackRefused' });
    expect(statesEntered(rb.history)).toContain('Cannot tell what to roll back');
    expect(rb.cause).toContain(`the release of v7.2.0 (${stuck}) holds prod of ${service}, but the ledger records no change of traffic by it there (live v7.1.0, healthy, no canary)`);
    expect(rb.cause).toContain('cannot tell whether v7.1.0 or v7.2.0 is bad');
    expect(await h.rt.deps.ledger.getEnvironment(service, 'prod')).toMatchObject({ version: 'v7.1.0', healthy: true, lockHolder: stuck });
    expect(h.rt.fleet.version(service, 'prod')).toBe('v7.1.0');
    expect(await h.rt.deps.ledger.getOutcome(service, 'v7.1.0')).toMatchObject({ outcome: 'succeeded' });
  });
});

describe('an alarm while a canary is held for a decision', () => {
  let h: Harness;
  const prod = (service: string) => h.rt.deps.ledger.getEnvironment(service, 'prod');
  const hold = (s: RawService) => void Object.assign(prodOf(s).canary!, { steps: [10, 50, 100], pollSeconds: 60, maxBakeSeconds: 120, onInconclusive: 'hold' });
  beforeAll(async () => {
    // No traffic: each canary step is inconclusive at its bake bound (two looks) and held.
    h = await startHarness({
      config: demoConfig({ canary: true, services: { held: hold, 'held-by-hand': hold }, policy: { approvers: ['alice', 'bob'], approvalTimeoutHours: 24 } }),
      waits: { 'Bake canary': 20 },
    });
  });
  afterAll(async () => h?.close());

  const heldAt = (rt: LocalRuntime, service: string, version: string) =>
    new Promise<ApprovalRequested>((resolve) => {
      const off = rt.onApprovalRequested((r) => {
        if (r.service !== service || r.version !== version) return;
        off();
        resolve(r);
      });
    });

  /** A release that alice promotes at every hold, to 100%. */
  async function shipPromoted(service: string, version: string): Promise<void> {
    await h.publish(version, { service });
    const approvals: Promise<unknown>[] = [];
    const off = h.rt.onApprovalRequested((r) => {
      if (r.service === service && r.version === version) approvals.push(h.rt.approve(r, 'alice'));
    });
    try {
      expect((await h.rt.startExecution('release', { service, version }).done).status).toBe('SUCCEEDED');
      await Promise.all(approvals);
    } finally {
      off();
    }
  }

  it('removes the held canary and keeps the healthy live version, not the one before it (prod v2.4.0 after v2.3.0, v2.4.1 held at 10%)', async () => {
    const service = 'held';
    await shipFirst(h, service, 'v2.3.0');
    await shipPromoted(service, 'v2.4.0');
    expect(await prod(service)).toMatchObject({ version: 'v2.4.0', healthy: true, goodVersions: ['v2.4.0', 'v2.3.0'] });
    await h.publish('v2.4.1', { service });
    const held = heldAt(h.rt, service, 'v2.4.1');
    const release = startRelease(h, service, 'v2.4.1');
    await held;
    expect(h.rt.fleet.canary(service, 'prod')).toEqual({ version: 'v2.4.1', weight: 10 });

    const rb = await alarmFires(h, service).done;
    expect(rb.status).toBe('SUCCEEDED');
    expect(statesEntered(rb.history)).toContain('Stop running release');
    expect((await release.done).status).toBe('ABORTED');
    expect(h.rt.fleet.version(service, 'prod')).toBe('v2.4.0');
    expect(h.rt.fleet.canary(service, 'prod')).toBeUndefined();
    const state = await prod(service);
    expect(state).toMatchObject({ version: 'v2.4.0', healthy: true, canary: null, lastOutcome: 'rolled-back', goodVersions: ['v2.4.0', 'v2.3.0'] });
    expect(state!.lockHolder).toBeUndefined();
    // Recorded against the canary's release, not the healthy v2.4.0; v2.4.1 is no longer in progress.
    const outcome = await h.rt.deps.ledger.getOutcome(service, 'v2.4.1');
    expect(outcome).toMatchObject({ outcome: 'rolled-back' });
    expect(outcome!.reason).toContain(`alarm ${service}-prod-errors`);
    expect(await h.rt.deps.ledger.getOutcome(service, 'v2.4.0')).toMatchObject({ outcome: 'succeeded' });
    expect((await h.rt.deps.ledger.decisions(service, 'v2.4.0')).filter((d) => d.step === 'rollback')).toEqual([]);
    expect(rolledBackEvents(h, service)).toEqual([expect.objectContaining({ Detail: expect.objectContaining({ version: 'v2.4.1', restoredVersion: 'v2.4.0' }) })]);
  });

  it('does the same for a rollback started by hand during the hold', async () => {
    const service = 'held-by-hand';
    await shipFirst(h, service, 'v6.0.0');
    await h.publish('v6.1.0', { service });
    const held = heldAt(h.rt, service, 'v6.1.0');
    const release = startRelease(h, service, 'v6.1.0');
    await held;

    const rb = await h.rt.startExecution('rollback', { service, environment: 'prod', reason: 'held too long, pulling it' }).done;
    expect(rb.status).toBe('SUCCEEDED');
    expect(await prod(service)).toMatchObject({ version: 'v6.0.0', healthy: true, canary: null, lastOutcome: 'rolled-back' });
    expect((await release.done).status).toBe('ABORTED');
    expect(h.rt.fleet.canary(service, 'prod')).toBeUndefined();
    const outcome = await h.rt.deps.ledger.getOutcome(service, 'v6.1.0');
    expect(outcome).toMatchObject({ outcome: 'rolled-back' });
    expect(outcome!.reason).toContain('manual rollback: held too long, pulling it');
  });
});
