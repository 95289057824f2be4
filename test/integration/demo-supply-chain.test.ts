import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoSupplyChain, publishDemoBuild, supplyChainLines } from '../../local/demo-supply-chain.js';
import { reportTests } from '../../local/runtime/ci.js';
import { LOCAL_LOCATIONS } from '../../local/runtime/runtime.js';
import { commitOf, demoConfig, GOOD_DIR, GREEN, startHarness, type Harness } from '../support/harness.js';

/**
 * `npm run demo`'s supply chain (issue 17): its key, its CI's signed manifest, provenance and
 * SBOM, and the line per check it prints, through the real release.asl.json. A build published
 * without them is refused before any environment changes, so the lines cannot pass by default.
 */

describe("the demo's supply chain", () => {
  let h: Harness;
  const config = demoConfig();
  const dataDir = mkdtempSync(join(tmpdir(), 'tagflow-demo-supply-'));
  let signer: ReturnType<typeof demoSupplyChain>;

  beforeAll(async () => {
    signer = demoSupplyChain(config, dataDir);
    // The runtime verifies with the key in its own data dir: the demo's runs in the same one.
    h = await startHarness({ config, dataDir });
  });
  afterAll(async () => h?.close());

  it('signs, attests and verifies a build, one passed line per check', async () => {
    const commit = commitOf('v1.0.0');
    const attached = await publishDemoBuild(h.rt.deps.store, LOCAL_LOCATIONS.artifactsBucket, signer, { service: 'demo', version: 'v1.0.0', commit, dir: GOOD_DIR, entry: 'app.mjs' });
    expect(attached).toMatch(/^signed by key [0-9a-f]{16} with SLSA provenance and a CycloneDX SBOM \(1 components, no known vulnerabilities\)$/);
    await reportTests(h.rt.deps.store, LOCAL_LOCATIONS.artifactsBucket, 'demo', commit, GREEN);
    const s = await h.rt.startExecution('release', { service: 'demo', version: 'v1.0.0', environments: ['dev'] }).done;
    expect(s.status, JSON.stringify(s)).toBe('SUCCEEDED');
    const { lines, all } = await supplyChainLines(h.rt.deps.ledger, 'demo', 'v1.0.0');
    expect(lines.map((l) => l.check)).toEqual(['signature', 'checksums', 'provenance', 'SBOM', 'vulnerability gate', 'verification summaries']);
    expect(all).toBe(true);
    expect(lines[0]!.summary).toMatch(/^manifest signed by key [0-9a-f]{16} \(the data dir's key /);
    expect(lines[2]!.summary).toContain('built by https://tagflow.dev/local-ci from git+https://github.com/acme/demo at ');
    expect(lines[3]!.summary).toMatch(/^CycloneDX 1\.5, 1 components, sha256 [0-9a-f]{16}$/);
    expect(lines[4]!.summary).toMatch(/^no findings within supplyChain\.maxSeverity/);
    expect(lines[5]!.summary).toMatch(/^signed SLSA VSA in dev \(SLSA_BUILD_LEVEL_1, TAGFLOW_SIGNED_MANIFEST, TAGFLOW_SBOM, TAGFLOW_VULNERABILITY_GATE\), by the verification key [0-9a-f]{16}$/);
  });

  it('refuses a build CI published without them before any environment, and its lines say what failed', async () => {
    const { publishBuild } = await import('../../local/runtime/ci.js');
    const commit = commitOf('v1.0.1');
    await publishBuild(h.rt.deps.store, LOCAL_LOCATIONS.artifactsBucket, { service: 'demo', version: 'v1.0.1', commit, dir: GOOD_DIR, entry: 'app.mjs' });
    await reportTests(h.rt.deps.store, LOCAL_LOCATIONS.artifactsBucket, 'demo', commit, GREEN);
    const before = h.rt.fleet.version('demo', 'dev');
    const s = await h.rt.startExecution('release', { service: 'demo', version: 'v1.0.1', environments: ['dev'] }).done;
    expect(s.status).toBe('FAILED');
    expect(s.error).toBe('ManifestSignatureInvalid');
    expect(h.rt.fleet.version('demo', 'dev')).toBe(before);
    expect(before).not.toBe('v1.0.1');
    const { lines, all } = await supplyChainLines(h.rt.deps.ledger, 'demo', 'v1.0.1');
    expect(all).toBe(false);
    expect(lines.find((l) => l.check === 'signature')!.passed).toBe(false);
  });
});
