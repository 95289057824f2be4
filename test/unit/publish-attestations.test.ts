import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attestationsFromFlags } from '../../local/cli/publish-attestations.js';
import { generateKeyPairSync, sign } from 'node:crypto';
import { keyIdOf } from '../../lambdas/lib/supply-chain/dsse.js';
import { readProvenance } from '../../lambdas/lib/supply-chain/provenance.js';
import { DEMO_BUILDER, demoAttestations, makeProvenance, withSignedProvenance } from '../../local/runtime/attestations.js';
import { demoConfig, GOOD_DIR, type RawService } from '../support/harness.js';

const COMMIT = 'c'.repeat(40);
const BUILD = { service: 'demo', version: 'v1.0.0', commit: COMMIT, dir: GOOD_DIR };
let tmp: string;
const file = (name: string, text: string) => {
  const path = join(tmp, name);
  writeFileSync(path, text);
  return path;
};
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'tagflow-attest-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const refusal = (p: Promise<unknown>) => p.then(() => 'accepted', (e: Error) => `${e.name}: ${e.message}`);

describe('publish-build --provenance --sbom', () => {
  it("accepts the demo's own attestations for the folder and commit, returning their bytes", async () => {
    const a = await demoAttestations({ ...BUILD });
    const out = await attestationsFromFlags({ provenance: file('p.json', a.provenance), sbom: file('s.json', a.sbom) }, BUILD);
    expect(Buffer.from(out.provenance!).toString()).toBe(a.provenance);
    expect(Buffer.from(out.sbom!).toString()).toBe(a.sbom);
  });

  it('refuses, before any upload, a provenance of another commit and an invalid SBOM, naming each flag', async () => {
    const other = JSON.stringify(makeProvenance({ dir: GOOD_DIR, repository: 'acme/demo', commit: 'd'.repeat(40), builder: DEMO_BUILDER }));
    const sbom = file('bad.cdx.json', JSON.stringify({ bomFormat: 'CycloneDX', specVersion: '1.5', components: [{ name: 'x' }] }));
    const msg = await refusal(attestationsFromFlags({ provenance: file('other.json', other), sbom }, BUILD));
    expect(msg).toMatch(/^PublishRefused: publish-build refused, nothing uploaded: --provenance .*other\.json: provenance names commit dddddddddddd… but the release is for cccccccccccc…; --sbom .*bad\.cdx\.json is not a valid CycloneDX 1\.5 SBOM: \/components\/0 must have required property 'type'/);
  });

  it("checks the builder against the service's supplyChain.builders when the config has them", async () => {
    const config = demoConfig({ services: { trusted: (s: RawService) => void (s.supplyChain = { provenance: 'required', builders: ['https://ci.example/ours'] }) } });
    const a = await demoAttestations({ ...BUILD, service: 'trusted' });
    const msg = await refusal(attestationsFromFlags({ provenance: file('p2.json', a.provenance) }, { ...BUILD, service: 'trusted' }, config));
    expect(msg).toContain(`provenance names builder ${DEMO_BUILDER}, which supplyChain.builders does not trust (https://ci.example/ours)`);
  });

  it('says when a file cannot be read', async () => {
    expect(await refusal(attestationsFromFlags({ sbom: join(tmp, 'missing.json') }, BUILD))).toMatch(/--sbom .*missing\.json: cannot be read \(ENOENT\)/);
  });

  it('signs a bare statement with the key that signs the manifest, and leaves an envelope CI signed as it is', async () => {
    const k = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const signer = { keyid: async () => keyIdOf(k.publicKey), sign: async (m: Uint8Array) => sign('sha256', m, { key: k.privateKey, dsaEncoding: 'der' }) };
    const bare = await demoAttestations({ ...BUILD });
    const signed = await withSignedProvenance({ provenance: Buffer.from(bare.provenance), sbom: bare.sbom }, signer);
    expect(readProvenance(Buffer.from(signed.provenance!), 'p', k.publicKey)).toMatchObject({ keyid: keyIdOf(k.publicKey), statement: JSON.parse(bare.provenance) });
    expect(signed.sbom).toBe(bare.sbom);
    expect(await withSignedProvenance(signed, signer)).toEqual(signed);
    expect(await withSignedProvenance({ provenance: bare.provenance }, undefined)).toEqual({ provenance: bare.provenance });
  });
});
