import { describe, expect, it } from 'vitest';
import { supplyChainPolicy } from '../../lambdas/lib/supply-chain/config.js';
import { canonicalJson, policyDigest, verificationSummary, verifiedLevels } from '../../lambdas/lib/supply-chain/vsa.js';

describe('verification summaries (SLSA VSA v1)', () => {
  it('claim Build L1 only for verified provenance, and name what else was checked, an override as such', () => {
    expect(verifiedLevels({})).toEqual(['SLSA_BUILD_LEVEL_0']);
    expect(verifiedLevels({ provenance: { uri: 'p', builder: 'b', commit: 'c' }, signature: { uri: 's', keyid: 'k' }, vulnerabilities: { verdict: 'overridden' } })).toEqual(['SLSA_BUILD_LEVEL_1', 'TAGFLOW_SIGNED_MANIFEST', 'TAGFLOW_VULNERABILITY_GATE_OVERRIDDEN']);
    expect(verifiedLevels({ vulnerabilities: { verdict: 'off' } })).toEqual(['SLSA_BUILD_LEVEL_0']);
  });

  it('digest the policy the same whatever the order of its fields', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { f: 1, e: 0 }], c: undefined } })).toBe('{"a":{"d":[2,{"e":0,"f":1}]},"b":1}');
    const a = supplyChainPolicy({ sbom: 'required', signatures: 'required' }, undefined);
    const b = supplyChainPolicy({ signatures: 'required' }, { sbom: 'required' });
    expect(policyDigest(a)).toBe(policyDigest(b));
    expect(policyDigest(a)).not.toBe(policyDigest(supplyChainPolicy({ signatures: 'required' }, undefined)));
  });

  it('list the files and the image digest as subjects', () => {
    const s = verificationSummary({ service: 'shop', version: 'v1.0.0', environment: 'prod', policy: supplyChainPolicy(undefined, { signatures: 'required' }), files: [{ path: 'function.zip', sha256: 'a'.repeat(64) }], imageDigest: `sha256:${'b'.repeat(64)}`, resourceUri: 's3://env/prod/shop/v1.0.0/', manifest: 's3://art/builds/shop/v1.0.0/manifest.json', at: new Date('2026-12-01T00:00:00Z') });
    expect(s.subject).toEqual([{ name: 'function.zip', digest: { sha256: 'a'.repeat(64) } }, { name: `shop@sha256:${'b'.repeat(64)}`, digest: { sha256: 'b'.repeat(64) } }]);
    expect(s.predicate.timeVerified).toBe('2026-12-01T00:00:00.000Z');
    expect(s.predicate.inputAttestations).toEqual([{ uri: 's3://art/builds/shop/v1.0.0/manifest.json' }]);
  });
});
