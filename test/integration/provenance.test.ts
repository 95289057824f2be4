import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderReport } from '../../lambdas/lib/report/render.js';
import { LOCAL_LOCATIONS } from '../../local/runtime/runtime.js';
import { keyIdOf } from '../../lambdas/lib/supply-chain/dsse.js';
import { keygen } from '../../local/cli/keygen.js';
import { DEMO_BUILDER, DEMO_REPOSITORY, demoAttestations, uploadAttestations } from '../../local/runtime/attestations.js';
import { publishBuild, reportTests } from '../../local/runtime/ci.js';
import { localSigner } from '../../local/runtime/local-signer.js';
import { commitOf, demoConfig, GOOD_DIR, GREEN, startHarness, statesEntered, type Harness, type RawService } from '../support/harness.js';

/**
 * Provenance and SBOM through the real release.asl.json (issue 17): the build's attestations are
 * checked right after Resolve artifact, so a refused build never reaches an environment.
 */

const POLICY = { provenance: 'required', builders: [DEMO_BUILDER], repository: DEMO_REPOSITORY, sbom: 'required' };
const withPolicy = (s: RawService) => void (s.supplyChain = POLICY);
const signed = (s: RawService) => void (s.supplyChain = { ...POLICY, signatures: 'required' });
const SERVICES = { 'prov-commit': withPolicy, 'prov-builder': withPolicy, 'sbom-missing': withPolicy, attested: withPolicy, 'no-policy': null, 'signed-prov': signed, 'unsigned-prov': signed };

let h: Harness;
let keyid: string;
beforeAll(async () => {
  h = await startHarness({ config: demoConfig({ services: SERVICES }) });
  // The data dir's key (tagflow local keygen) is the pipeline's signing key.
  keyid = keygen(h.dataDir).keyid;
});
afterAll(async () => h?.close());

const release = (service: string, version: string) => h.rt.startExecution('release', { service, version }).done;

/** Publishes a build with the attestations the demo's CI makes; `change` alters what it attaches. */
async function publishAttested(service: string, version: string, over: { commit?: string; builder?: string; sbom?: false } = {}) {
  await h.publish(version, { service });
  const a = await demoAttestations({ dir: GOOD_DIR, service, version, commit: over.commit ?? commitOf(version), ...(over.builder ? { builder: over.builder } : {}) });
  await uploadAttestations(h.rt.deps.store, LOCAL_LOCATIONS.artifactsBucket, service, version, { provenance: a.provenance, ...(over.sbom === false ? {} : { sbom: a.sbom }) });
}

/** Refused at Verify provenance: no environment was entered, locked or deployed. */
async function expectNothingChanged(service: string, version: string, s: { history: { type: string; state?: { name: string } }[] }) {
  const entered = statesEntered(s.history);
  expect(entered).toContain('Verify provenance');
  expect(entered).not.toContain('Start environments');
  expect(await h.promotedAnywhere(service, version)).toEqual([]);
  for (const env of ['dev', 'staging', 'prod']) expect(await h.rt.deps.ledger.getEnvironment(service, env)).toBeUndefined();
}

describe('Verify provenance, end to end', () => {
  it('refuses a provenance for another commit before any environment changes', async () => {
    const service = 'prov-commit';
    await publishAttested(service, 'v1.0.0', { commit: commitOf('v9.9.9') });
    const s = await release(service, 'v1.0.0');

    expect(s).toMatchObject({ status: 'FAILED', error: 'ProvenanceMismatch' });
    expect(s.cause).toContain(`provenance names commit ${commitOf('v9.9.9').slice(0, 12)}… but the release is for ${commitOf('v1.0.0').slice(0, 12)}…`);
    await expectNothingChanged(service, 'v1.0.0', s);
    expect(await h.rt.deps.ledger.getOutcome(service, 'v1.0.0')).toMatchObject({ outcome: 'failed', error: 'ProvenanceMismatch' });
  });

  it('refuses a builder the config does not trust', async () => {
    const service = 'prov-builder';
    await publishAttested(service, 'v1.0.0', { builder: 'https://ci.example/someone-elses-runner' });
    const s = await release(service, 'v1.0.0');

    expect(s).toMatchObject({ status: 'FAILED', error: 'ProvenanceMismatch' });
    expect(s.cause).toContain(`provenance names builder https://ci.example/someone-elses-runner, which supplyChain.builders does not trust (${DEMO_BUILDER})`);
    await expectNothingChanged(service, 'v1.0.0', s);
  });

  it('refuses a build without the SBOM its service requires, naming where it looked', async () => {
    const service = 'sbom-missing';
    await publishAttested(service, 'v1.0.0', { sbom: false });
    const s = await release(service, 'v1.0.0');

    expect(s).toMatchObject({ status: 'FAILED', error: 'SbomMissing' });
    expect(s.cause).toContain(`sbom-missing requires an SBOM (supplyChain.sbom "required") but there is none at s3://${LOCAL_LOCATIONS.artifactsBucket}/builds/sbom-missing/v1.0.0/sbom.cdx.json`);
    await expectNothingChanged(service, 'v1.0.0', s);
    const failed = (await h.rt.deps.ledger.decisions(service, 'v1.0.0')).find((d) => d.step === 'verify-provenance');
    expect(failed).toMatchObject({ verdict: 'failed', evidence: { error: 'SbomMissing' } });
  });

  it('ships a build with matching provenance and a valid SBOM, its component count in the ledger and the report', async () => {
    const service = 'attested';
    await publishAttested(service, 'v1.0.0');
    const s = await release(service, 'v1.0.0');

    expect([s.status, s.error, s.cause]).toEqual(['SUCCEEDED', undefined, undefined]);
    const decisions = await h.rt.deps.ledger.decisions(service, 'v1.0.0');
    const verified = decisions.find((d) => d.step === 'verify-provenance')!;
    // The demo build has no package.json: its one file is the SBOM's one component.
    expect(verified).toMatchObject({ verdict: 'passed', evidence: { provenance: { builder: DEMO_BUILDER, commit: commitOf('v1.0.0'), subjects: 1 }, sbom: { components: 1, specVersion: '1.5' } } });
    expect(verified.summary).toMatch(/SBOM: CycloneDX 1\.5, 1 components, sha256 [0-9a-f]{16}/);
    const html = renderReport({ release: (await h.rt.deps.ledger.getRelease(service, 'v1.0.0'))!, outcome: await h.rt.deps.ledger.getOutcome(service, 'v1.0.0'), decisions });
    expect(html).toContain('<section id="supply-chain">');
    expect(html).toContain('<span data-components="1">1 components</span>');
    expect(html).toContain(`built by <code>${DEMO_BUILDER}</code>`);
    expect((await h.rt.deps.ledger.getEnvironment(service, 'prod'))?.version).toBe('v1.0.0');
  });

  it('with no supplyChain policy, passes without reading or recording anything', async () => {
    const service = 'no-policy';
    await h.publish('v1.0.0', { service });
    const s = await release(service, 'v1.0.0');

    expect(s.status).toBe('SUCCEEDED');
    expect(statesEntered(s.history)).toContain('Verify provenance');
    expect((await h.rt.deps.ledger.decisions(service, 'v1.0.0')).filter((d) => d.step === 'verify-provenance')).toEqual([]);
  });

  it('with signatures required, ships a build whose provenance the pipeline key signed, and refuses a bare statement', async () => {
    const signer = localSigner(h.dataDir)!;
    for (const [service, signProvenance] of [['signed-prov', true], ['unsigned-prov', false]] as const) {
      await publishBuild(h.rt.deps.store, LOCAL_LOCATIONS.artifactsBucket, { service, version: 'v1.0.0', commit: commitOf('v1.0.0'), dir: GOOD_DIR, entry: 'app.mjs', signer });
      await reportTests(h.rt.deps.store, LOCAL_LOCATIONS.artifactsBucket, service, commitOf('v1.0.0'), GREEN);
      const a = await demoAttestations({ dir: GOOD_DIR, service, version: 'v1.0.0', commit: commitOf('v1.0.0'), ...(signProvenance ? { signer } : {}) });
      await uploadAttestations(h.rt.deps.store, LOCAL_LOCATIONS.artifactsBucket, service, 'v1.0.0', a);
    }

    const ok = await release('signed-prov', 'v1.0.0');
    expect([ok.status, ok.error, ok.cause]).toEqual(['SUCCEEDED', undefined, undefined]);
    const verified = (await h.rt.deps.ledger.decisions('signed-prov', 'v1.0.0')).find((d) => d.step === 'verify-provenance')!;
    expect(keyid).toBe(keyIdOf((await h.rt.deps.signingKey!.trusted()).key));
    expect(verified).toMatchObject({ verdict: 'passed', evidence: { provenance: { keyid } } });
    expect(verified.summary).toContain(`signed by key ${keyid.slice(0, 16)}`);

    const bare = await release('unsigned-prov', 'v1.0.0');
    expect(bare).toMatchObject({ status: 'FAILED', error: 'ProvenanceMissing' });
    expect(bare.cause).toContain("is a bare statement, but signatures are required: CI must upload the statement as a DSSE envelope signed by the pipeline's key");
    await expectNothingChanged('unsigned-prov', 'v1.0.0', bare);
  });
});
