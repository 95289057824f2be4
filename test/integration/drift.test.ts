import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectDrift, differences } from '../../lambdas/lib/drift.js';
import { runTagflow } from '../support/cli.js';
import { FleetServing } from '../../local/runtime/fleet-serving.js';
import { LOCAL_LOCATIONS, LocalRuntime } from '../../local/runtime/runtime.js';
import { BAD_DIR, commitOf, demoConfig, GOOD_DIR } from '../support/harness.js';
import { startHarness, type Harness } from '../support/harness.js';

/**
 * Drift (issue 16): what serves against what the ledger says, for every service and environment.
 * The local fleet is changed behind the pipeline's back, as a console click would change an alias.
 */


describe('drift between the ledger and what serves', () => {
  it('names both sides of each difference', () => {
    const state = { service: 's', environment: 'prod', version: 'v2.0.0', healthy: true, goodVersions: ['v2.0.0', 'v1.0.0'], refs: { 'v1.0.0': '6', 'v2.0.0': '7', 'v2.1.0': '8' }, revision: 3 };
    expect(differences(state, { ref: '7' })).toEqual([]);
    expect(differences(state, { ref: '6' })).toEqual(['serves v1.0.0 (6) where the ledger has v2.0.0 (7)']);
    expect(differences(state, { ref: '12' })).toEqual(['serves 12, which no release recorded here where the ledger has v2.0.0 (7)']);
    expect(differences(state, { ref: '7', split: { ref: '8', weight: 25 } })).toEqual(['v2.1.0 (8) gets 25% of the traffic, and the ledger has no canary there']);
    const canary = { ...state, canary: { version: 'v2.1.0', weight: 10, stepIndex: 0, stepStartedAt: '2026-11-30T10:00:00Z' } } as never;
    expect(differences(canary, { ref: '7', split: { ref: '8', weight: 10 } })).toEqual([]);
    expect(differences(canary, { ref: '7', split: { ref: '8', weight: 50 } })).toEqual(['the canary v2.1.0 gets 50% where the ledger has 10%']);
    expect(differences(canary, { ref: '7' })).toEqual(['the canary v2.1.0 at 10% gets no traffic']);
    expect(differences(undefined, {})).toEqual([]);
    expect(differences(undefined, { ref: '3' })).toEqual(['serves 3, which no release recorded here where the ledger has nothing']);
  });
});

describe('tagflow drift on the local runtime', () => {
  let h: Harness;
  let dir: string;
  beforeAll(async () => {
    h = await startHarness();
    await h.publish('v1.0.0');
    expect((await h.rt.startExecution('release', { service: 'demo', version: 'v1.0.0' }).done).status).toBe('SUCCEEDED');
    dir = mkdtempSync(join(tmpdir(), 'tagflow-drift-'));
    writeFileSync(join(dir, 'tagflow.config.json'), JSON.stringify(demoConfig()));
  });
  afterAll(async () => {
    await h?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const check = () => detectDrift(demoConfig(), { ledger: h.rt.deps.ledger, reader: () => new FleetServing(h.rt.fleet), now: h.rt.clock.now() });

  it('finds none after a release, then names both versions once the fleet is changed behind the pipeline', async () => {
    expect(await check()).toEqual({ checked: 3, drifted: [], skipped: [] });

    // v1.1.0 is published, and someone deploys it to staging by hand: no release, no ledger write.
    await h.publish('v1.1.0', { dir: BAD_DIR });
    const manifest = JSON.parse(new TextDecoder().decode(await h.rt.deps.store.get({ bucket: LOCAL_LOCATIONS.artifactsBucket, key: 'builds/demo/v1.1.0/manifest.json' })));
    await h.rt.fleet.deploy({ service: 'demo', environment: 'staging', version: 'v1.1.0', target: { type: 'local' }, location: { bucket: LOCAL_LOCATIONS.artifactsBucket, prefix: 'builds/demo/v1.1.0/' }, artifact: { ...manifest, commit: commitOf('v1.1.0') } } as never);
    const report = await check();
    expect(report.drifted).toEqual([
      { service: 'demo', environment: 'staging', expected: 'v1.0.0', actual: 'v1.1.0, which no release recorded here', differences: ['serves v1.1.0, which no release recorded here where the ledger has v1.0.0'] },
    ]);

  });
});

describe('tagflow drift, the command', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tagflow-drift-cli-'));
    writeFileSync(join(dir, 'tagflow.config.json'), JSON.stringify(demoConfig()));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const cli = (...args: string[]) => runTagflow(args, { config: join(dir, 'tagflow.config.json'), dataDir: join(dir, 'data') });

  it('exits 0 when what serves is what the ledger says, 1 naming both versions after a change behind its back (kept across processes)', async () => {
    for (const version of ['v1.0.0', 'v1.1.0']) {
      const commit = commitOf(version);
      expect((await cli('local', 'publish-build', '--service', 'demo', '--version', version, '--commit', commit, '--dir', version === 'v1.0.0' ? GOOD_DIR : BAD_DIR, '--entry', 'app.mjs')).code).toBe(0);
      expect((await cli('local', 'report-tests', '--service', 'demo', '--commit', commit, '--suite', 'unit:10:0', '--suite', 'integration:5:0')).code).toBe(0);
    }
    expect((await cli('local', 'release', '--service', 'demo', '--version', 'v1.0.0')).code).toBe(0);
    const clean = await cli('drift');
    expect(clean.code).toBe(0);
    expect(clean.lines).toContain('✓ 3 environment(s) checked, 0 drifted: what serves is what the ledger says');

    // Someone points prod at v1.1.0 by hand, in another process: the fleet keeps it, the ledger knows nothing of it.
    const rt = await LocalRuntime.start({ dataDir: join(dir, 'data'), config: demoConfig() });
    try {
      const manifest = JSON.parse(new TextDecoder().decode(await rt.deps.store.get({ bucket: LOCAL_LOCATIONS.artifactsBucket, key: 'builds/demo/v1.1.0/manifest.json' })));
      await rt.fleet.deploy({ service: 'demo', environment: 'prod', version: 'v1.1.0', target: { type: 'local' }, location: { bucket: LOCAL_LOCATIONS.artifactsBucket, prefix: 'builds/demo/v1.1.0/' }, artifact: manifest } as never);
    } finally {
      await rt.close();
    }
    const drifted = await cli('drift');
    expect(drifted.code).toBe(1);
    expect(drifted.lines[0]).toBe('✗ demo prod drifted: the ledger has v1.0.0; it serves v1.1.0, which no release recorded here');
    expect(drifted.lines).toContain('3 environment(s) checked, 1 drifted');
    expect((await cli('drift', '--service', 'demo')).code).toBe(1);

    // --record marks it (as the scheduled check does); acknowledging needs a reason, then records who.
    const recorded = await cli('drift', '--record');
    expect(recorded.lines.some((l) => l.startsWith('⚑ demo prod marked drifted and Drift Detected put'))).toBe(true);
    expect((await cli('status')).out).toMatch(/drifted/);
    expect((await cli('drift', '--acknowledge', '--service', 'demo', '--environment', 'prod')).code).toBe(2);
    const acked = await cli('drift', '--acknowledge', '--service', 'demo', '--environment', 'prod', '--reason', 'hotfix by hand during INC-7');
    expect(acked.code).toBe(0);
    expect(acked.lines[0]).toMatch(/^✓ acknowledged the drift of demo prod \(the ledger has v1\.0\.0; it serves v1\.1\.0.*\) as .+ at .+: hotfix by hand during INC-7$/);
  });
});
