import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acknowledgeDrift } from '../../lambdas/lib/drift-acknowledge.js';
import type { DriftRecord } from '../../lambdas/lib/steps/detect-drift.js';
import { LOCAL_LOCATIONS } from '../../local/runtime/runtime.js';
import { STEP_RUNS } from '../../local/runtime/step-runs.js';
import { acknowledgeDriftLines, recordDriftLines } from '../../local/cli/drift-record.js';
import { statusTable } from '../../local/cli/status.js';
import { detectDrift } from '../../lambdas/lib/drift.js';
import { FleetServing } from '../../local/runtime/fleet-serving.js';
import { BAD_DIR, commitOf, demoConfig, startHarness, type Harness } from '../support/harness.js';

/**
 * The scheduled drift check (issue 16) through the local runtime: the fleet is changed behind the
 * pipeline's back; the check marks the environment and announces it once; a release into it is
 * refused until a person acknowledges; then a release goes and leaves a known state.
 */

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
  await h.publish('v1.0.0');
  expect((await h.rt.startExecution('release', { service: 'demo', version: 'v1.0.0' }).done).status).toBe('SUCCEEDED');
  await h.publish('v1.1.0', { dir: BAD_DIR });
});
afterAll(async () => h?.close());

/** The step's core, with the deps the runtime gives every step (what the schedule's invocation runs). */
const check = () => STEP_RUNS['detect-drift']({} as never, h.rt.deps) as Promise<DriftRecord>;
const strip = (s: string) => s.replace(/\u001b\[\d+m/g, '');
const driftEvents = (environment = 'staging') => h.rt.emitted.filter((e) => e.DetailType === 'Drift Detected' && (e.Detail as { environment: string }).environment === environment);
const staging = () => h.rt.deps.ledger.getEnvironment('demo', 'staging');

async function handDeploy(version: string, environment: string) {
  const manifest = JSON.parse(new TextDecoder().decode(await h.rt.deps.store.get({ bucket: LOCAL_LOCATIONS.artifactsBucket, key: `builds/demo/${version}/manifest.json` })));
  await h.rt.fleet.deploy({ service: 'demo', environment, version, target: { type: 'local' }, location: { bucket: LOCAL_LOCATIONS.artifactsBucket, prefix: `builds/demo/${version}/` }, artifact: { ...manifest, commit: commitOf(version) } } as never);
}

describe('the scheduled drift check', () => {
  it('marks nothing while what serves is what the ledger says', async () => {
    expect(await check()).toEqual({ checked: 3, marked: [], known: [], cleared: [], skipped: [] });
  });

  it('marks a drift with both sides, announces it once, and blocks releases there until acknowledged', async () => {
    await handDeploy('v1.1.0', 'staging');

    expect(await check()).toMatchObject({ checked: 3, marked: [{ service: 'demo', environment: 'staging' }], known: [] });
    const now = h.rt.clock.now().toISOString();
    expect(driftEvents()).toHaveLength(1);
    expect(driftEvents()[0]).toMatchObject({
      Source: 'tagflow',
      Detail: { service: 'demo', environment: 'staging', expected: 'v1.0.0', actual: 'v1.1.0, which no release recorded here', differences: ['serves v1.1.0, which no release recorded here where the ledger has v1.0.0'] },
    });
    expect(Date.parse((driftEvents()[0]!.Detail as { detectedAt: string }).detectedAt)).toBeLessThanOrEqual(Date.parse(now));
    expect((await staging())?.drift).toMatchObject({ expected: 'v1.0.0', actual: 'v1.1.0, which no release recorded here' });

    const status = (await statusTable(h.rt.deps.ledger, demoConfig(), 'demo', { now: h.rt.clock.now() })).map(strip);
    expect(status).toContain(`    drifted since ${(await staging())!.drift!.detectedAt}: the ledger has v1.0.0; it serves v1.1.0, which no release recorded here (releases here are refused until acknowledged: tagflow drift --acknowledge)`);

    // The same drift found again: nothing written, nothing announced.
    // \`tagflow drift --record\` does what the schedule does.
    const report = await detectDrift(demoConfig(), { ledger: h.rt.deps.ledger, reader: () => new FleetServing(h.rt.fleet), now: h.rt.clock.now() });
    expect((await recordDriftLines(demoConfig(), report, h.rt.deps)).map(strip)).toEqual(['• demo staging already marked with this drift: nothing written']);
    const revision = (await staging())!.revision;
    expect(await check()).toMatchObject({ marked: [], known: [{ service: 'demo', environment: 'staging' }] });
    expect(driftEvents()).toHaveLength(1);
    expect((await staging())!.revision).toBe(revision);

    await h.publish('v1.0.1');
    const refused = await h.rt.startExecution('release', { service: 'demo', version: 'v1.0.1' }).done;
    expect(refused).toMatchObject({ status: 'FAILED', error: 'EnvironmentDrifted' });
    expect(refused.cause).toContain('the ledger has v1.0.0; it serves v1.1.0, which no release recorded here');
    expect(refused.cause).toContain('tagflow drift --acknowledge --service demo --environment staging');

    await expect(acknowledgeDrift(h.rt.deps.ledger, demoConfig(), { service: 'demo', environment: 'staging' }, h.rt.clock.now(), 'alice@laptop')).rejects.toThrow(/--reason is required/);
    await expect(acknowledgeDrift(h.rt.deps.ledger, demoConfig(), { service: 'demo', environment: 'qa', reason: 'x' }, h.rt.clock.now(), 'alice@laptop')).rejects.toThrow(/--environment: service "demo" has no environment "qa"; environments: /);
    await expect(acknowledgeDrift(h.rt.deps.ledger, demoConfig(), { service: 'demo', environment: 'dev', reason: 'x' }, h.rt.clock.now(), 'alice@laptop')).rejects.toThrow(/dev of demo is not marked drifted: nothing to acknowledge/);
    const ackLines = (await acknowledgeDriftLines(h.rt.deps.ledger, demoConfig(), { service: 'demo', environment: 'staging', reason: 'hand-deployed during INC-7' }, h.rt.clock.now(), 'alice@laptop')).map(strip);
    expect(ackLines[0]).toMatch(/^✓ acknowledged the drift of demo staging \(the ledger has v1.0.0; it serves v1.1.0, which no release recorded here\) as alice@laptop at .*: hand-deployed during INC-7$/);
    expect((await staging())!.drift!.acknowledged).toMatchObject({ by: 'alice@laptop', reason: 'hand-deployed during INC-7' });
    expect((await statusTable(h.rt.deps.ledger, demoConfig(), 'demo', { now: h.rt.clock.now() })).map(strip).some((l) => l.includes('(acknowledged by alice@laptop at ') && l.includes(': hand-deployed during INC-7)'))).toBe(true);
    // An acknowledged drift is not announced again.
    expect(await check()).toMatchObject({ marked: [], known: [{ service: 'demo', environment: 'staging' }] });
    expect(driftEvents()).toHaveLength(1);

    await h.publish('v1.0.2');
    const released = await h.rt.startExecution('release', { service: 'demo', version: 'v1.0.2' }).done;
    expect(released.status, released.cause).toBe('SUCCEEDED');
    // The release left a known state: the mark is gone and the next check agrees.
    expect((await staging())?.drift ?? null).toBeNull();
    expect(await check()).toEqual({ checked: 3, marked: [], known: [], cleared: [], skipped: [] });
  });

  it('clears the mark when someone puts back what the ledger says', async () => {
    const was = (await h.rt.deps.ledger.getEnvironment('demo', 'dev'))!.version!;
    await handDeploy('v1.1.0', 'dev');
    expect(await check()).toMatchObject({ marked: [{ service: 'demo', environment: 'dev' }] });
    expect((await h.rt.deps.ledger.getEnvironment('demo', 'dev'))?.drift).toMatchObject({ expected: was });
    await handDeploy(was, 'dev');
    expect(await check()).toMatchObject({ marked: [], cleared: [{ service: 'demo', environment: 'dev' }] });
    expect((await h.rt.deps.ledger.getEnvironment('demo', 'dev'))?.drift).toBeNull();
    expect(driftEvents('dev')).toHaveLength(1);
  });

  it('the ledger marks without the lock, never over a live lock or a newer write, and a locked write clears it (DynamoDB API)', async () => {
    const ledger = h.rt.deps.ledger;
    const now = h.rt.clock.now().getTime();
    const mark = { detectedAt: new Date(now).toISOString(), expected: 'nothing', actual: '3, which no release recorded here', differences: ['serves 3'] };
    // A service no release reached yet: the mark makes its item, shaped as a lock would.
    expect(await ledger.markDrift('ghost', 'prod', mark, 0, now)).toBe(true);
    expect(await ledger.getEnvironment('ghost', 'prod')).toMatchObject({ service: 'ghost', environment: 'prod', revision: 1, goodVersions: [], refs: {}, drift: mark });
    // Over a state it did not compare: refused.
    expect(await ledger.markDrift('ghost', 'prod', null, 0, now)).toBe(false);
    // Under a live lock: refused; once the lock has expired: written.
    const lock = await ledger.acquireLock('ghost', 'prod', 'exec-1', now, 60_000);
    expect(lock.acquired).toBe(true);
    const locked = (await ledger.getEnvironment('ghost', 'prod'))!;
    expect(await ledger.markDrift('ghost', 'prod', null, locked.revision, now + 1_000)).toBe(false);
    expect((await ledger.getEnvironment('ghost', 'prod'))!.drift).toEqual(mark);
    expect(await ledger.markDrift('ghost', 'prod', { ...mark, differences: ['serves 4'] }, locked.revision, now + 61_000)).toBe(true);
    // A release's locked write with drift: null clears it.
    expect((await ledger.acquireLock('ghost', 'prod', 'exec-2', now + 62_000, 60_000)).acquired).toBe(true);
    const state = (await ledger.getEnvironment('ghost', 'prod'))!;
    expect((await ledger.putEnvironment({ ...state, drift: null }, 'exec-2')).drift).toBeNull();
    await ledger.releaseLock('ghost', 'prod', 'exec-2');
  });
});
