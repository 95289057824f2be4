import { generateKeyPairSync, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { IN_TOTO_PAYLOAD_TYPE, keyIdOf, signEnvelope } from '../../lambdas/lib/supply-chain/dsse.js';
import { trustedKeyOf } from '../../lambdas/lib/supply-chain/signed-manifest.js';
import { provenanceKey, sbomKey } from '../../lambdas/lib/keys.js';
import type { Decision } from '../../lambdas/lib/types.js';
import type { SupplyChainConfig } from '../../lambdas/lib/supply-chain/config.js';
import { provenanceStatement } from '../../lambdas/lib/supply-chain/provenance.js';
import { verifyProvenance, type VerifyProvenanceDeps, type VerifyProvenanceInput } from '../../lambdas/lib/steps/verify-provenance.js';

const COMMIT = 'a'.repeat(40);
const FILES = [{ path: 'app.mjs', size: 3, sha256: '1'.repeat(64) }];
const BUILDER = 'https://github.com/actions/runner';
const BUCKET = 'artifacts';
const SBOM = JSON.stringify({ bomFormat: 'CycloneDX', specVersion: '1.5', version: 1, components: [{ type: 'library', name: 'left-pad', version: '1.3.0' }] });

/** The step's ports over maps: what it reads, which keys it asked for, what it recorded. */
function world(objects: Record<string, string>) {
  const asked: string[] = [];
  const decisions: Decision[] = [];
  const deps: VerifyProvenanceDeps = {
    locations: { artifactsBucket: BUCKET, environmentsBucket: 'envs' },
    clock: { now: () => new Date('2026-11-30T12:00:00Z') } as VerifyProvenanceDeps['clock'],
    ledger: { recordDecision: async (d: Decision) => void decisions.push(d) } as unknown as VerifyProvenanceDeps['ledger'],
    store: {
      get: async ({ key }) => {
        asked.push(key);
        return objects[key] === undefined ? undefined : Buffer.from(objects[key]!);
      },
      stream: async () => undefined,
    },
  };
  return { deps, asked, decisions };
}

const input = (supplyChain?: SupplyChainConfig): VerifyProvenanceInput => ({
  release: { service: 'shop', version: 'v1.2.3', commit: COMMIT },
  service: { supplyChain },
  artifact: { commit: COMMIT, files: FILES },
});
const statement = (commit = COMMIT) => JSON.stringify(provenanceStatement({ files: FILES, repository: 'acme/shop', commit, builder: BUILDER }));

describe('Verify provenance', () => {
  it('reads nothing and records nothing when the policy asks nothing', async () => {
    const w = world({});
    expect(await verifyProvenance(input(), w.deps)).toEqual({});
    expect(await verifyProvenance(input({ signatures: 'off', provenance: 'off', sbom: 'off' }), w.deps)).toEqual({});
    expect([w.asked, w.decisions]).toEqual([[], []]);
  });

  it('passes a matching provenance and a valid SBOM, recording the builder, commit, component count and digest', async () => {
    const w = world({ [provenanceKey('shop', 'v1.2.3')]: statement(), [sbomKey('shop', 'v1.2.3')]: SBOM });
    const out = await verifyProvenance(input({ provenance: 'required', builders: [BUILDER], sbom: 'required' }), w.deps);
    expect(out).toEqual({ provenance: { builder: BUILDER, commit: COMMIT }, sbom: { components: 1, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) } });
    expect(w.decisions).toHaveLength(1);
    expect(w.decisions[0]).toMatchObject({ step: 'verify-provenance', verdict: 'passed', evidence: { sbom: { components: 1, sha256: out.sbom!.sha256, specVersion: '1.5' }, provenance: { builder: BUILDER, commit: COMMIT, subjects: 1 } } });
    expect(w.decisions[0]!.summary).toMatch(/^provenance: built by https:\/\/github.com\/actions\/runner from git\+https:\/\/github.com\/acme\/shop at aaaaaaaaaaaa, 1 subjects match the build; SBOM: CycloneDX 1.5, 1 components, sha256 [0-9a-f]{16}$/);
  });

  it('refuses and records a provenance for another commit', async () => {
    const w = world({ [provenanceKey('shop', 'v1.2.3')]: statement('b'.repeat(40)) });
    await expect(verifyProvenance(input({ provenance: 'required', builders: [BUILDER] }), w.deps)).rejects.toMatchObject({ name: 'ProvenanceMismatch', message: expect.stringContaining('provenance names commit bbbbbbbbbbbb… but the release is for aaaaaaaaaaaa…') });
    expect(w.decisions[0]).toMatchObject({ verdict: 'failed', evidence: { error: 'ProvenanceMismatch', field: 'resolvedDependencies[].digest.gitCommit', provenanceValue: 'b'.repeat(40), releaseValue: COMMIT } });
  });

  it('names the key it looked at when the required provenance is missing', async () => {
    const w = world({});
    await expect(verifyProvenance(input({ provenance: 'required', builders: [BUILDER] }), w.deps)).rejects.toMatchObject({
      name: 'ProvenanceMissing',
      message: expect.stringContaining('there is none at s3://artifacts/builds/shop/v1.2.3/provenance.intoto.json: CI must upload an in-toto SLSA v1 provenance statement'),
    });
  });

  it('with signatures required, verifies the envelope with the pipeline key, and refuses when there is none', async () => {
    const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const signer = { keyid: async () => keyIdOf(keys.publicKey), sign: async (m: Uint8Array) => sign('sha256', m, { key: keys.privateKey, dsaEncoding: 'der' }) };
    const envelope = JSON.stringify(await signEnvelope(signer, IN_TOTO_PAYLOAD_TYPE, Buffer.from(statement())));
    const policy: SupplyChainConfig = { signatures: 'required', provenance: 'required', builders: [BUILDER] };
    let asked = 0;
    const w = world({ [provenanceKey('shop', 'v1.2.3')]: envelope });
    w.deps.signingKey = { trusted: async () => (asked++, trustedKeyOf(keys.publicKey, 'the test key')) };
    expect(await verifyProvenance(input(policy), w.deps)).toEqual({ provenance: { builder: BUILDER, commit: COMMIT } });
    expect(asked).toBe(1);
    expect(w.decisions[0]!.summary).toContain(`signed by key ${keyIdOf(keys.publicKey).slice(0, 16)}`);

    const bare = world({ [provenanceKey('shop', 'v1.2.3')]: statement() });
    bare.deps.signingKey = w.deps.signingKey;
    await expect(verifyProvenance(input(policy), bare.deps)).rejects.toMatchObject({ name: 'ProvenanceMissing', message: expect.stringContaining('bare statement, but signatures are required') });

    const keyless = world({ [provenanceKey('shop', 'v1.2.3')]: envelope });
    await expect(verifyProvenance(input(policy), keyless.deps)).rejects.toMatchObject({ name: 'ProvenanceMissing', message: expect.stringContaining("the provenance's signature cannot be verified: shop requires signed builds") });
  });

  it('refuses a missing SBOM when required, not when optional', async () => {
    const w = world({});
    await expect(verifyProvenance(input({ sbom: 'required' }), w.deps)).rejects.toMatchObject({ name: 'SbomMissing', message: expect.stringContaining('there is none at s3://artifacts/builds/shop/v1.2.3/sbom.cdx.json') });
    expect(await verifyProvenance(input({ sbom: 'optional' }), w.deps)).toEqual({});
    expect(w.decisions.map((d) => [d.verdict, d.summary])).toEqual([
      ['failed', expect.stringContaining('requires an SBOM')],
      ['passed', 'SBOM: none (optional)'],
    ]);
  });

  it("refuses an invalid SBOM with the validator's first problems", async () => {
    const w = world({ [sbomKey('shop', 'v1.2.3')]: JSON.stringify({ ...JSON.parse(SBOM), components: [{ type: 'library' }] }) });
    await expect(verifyProvenance(input({ sbom: 'required' }), w.deps)).rejects.toMatchObject({ name: 'SbomInvalid', message: expect.stringContaining("/components/0 must have required property 'name'") });
    expect(w.decisions[0]).toMatchObject({ verdict: 'failed', evidence: { error: 'SbomInvalid', problems: [expect.stringContaining('/components/0')] } });
  });

  it("checks a config release against its base build's provenance and SBOM, allowing the config files CI never built", async () => {
    const w = world({ [provenanceKey('shop', 'v1.2.3')]: statement(), [sbomKey('shop', 'v1.2.3')]: SBOM });
    const config = { release: { service: 'shop', version: 'v1.2.3-config.1', commit: COMMIT }, service: { supplyChain: { provenance: 'required', builders: [BUILDER], sbom: 'required' } as SupplyChainConfig } };
    const files = [...FILES, { path: 'config.json', size: 2, sha256: '9'.repeat(64) }];
    expect(await verifyProvenance({ ...config, artifact: { commit: COMMIT, files, config: { base: 'v1.2.3', env: {} } } }, w.deps)).toMatchObject({ provenance: { commit: COMMIT }, sbom: { components: 1 } });
    expect(w.asked).toEqual([provenanceKey('shop', 'v1.2.3'), sbomKey('shop', 'v1.2.3')]);
    expect(w.decisions[0]!.summary).toMatch(/^provenance \(of its base build v1\.2\.3\): .*; SBOM \(of its base build v1\.2\.3\): /);
    // A code build must have every file attested.
    await expect(verifyProvenance({ ...config, release: { ...config.release, version: 'v1.2.3' }, artifact: { commit: COMMIT, files } }, w.deps)).rejects.toThrow('provenance has no subject for config.json');
  });
});

