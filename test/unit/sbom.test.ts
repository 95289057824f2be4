import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { Spec, Validation } from '@cyclonedx/cyclonedx-library';
import { afterAll, describe, expect, it } from 'vitest';
import { countComponents, SbomInvalid, sbomVulnerabilities } from '../../lambdas/lib/supply-chain/sbom.js';
import { readSbom } from '../../lambdas/lib/supply-chain/sbom-validate.js';
import { makeSbom } from '../../local/runtime/attestations.js';

const WHERE = 's3://artifacts/builds/shop/v1.2.3/sbom.cdx.json';
const dirs: string[] = [];
const folder = (files: Record<string, string>) => {
  const dir = mkdtempSync(join(tmpdir(), 'tagflow-sbom-'));
  dirs.push(dir);
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(join(dir, p, '..'), { recursive: true });
    writeFileSync(join(dir, p), text);
  }
  return dir;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

async function invalid(text: string): Promise<SbomInvalid> {
  try {
    await readSbom(Buffer.from(text), WHERE);
  } catch (err) {
    if (err instanceof SbomInvalid) return err;
    throw err;
  }
  throw new Error('accepted');
}

describe('CycloneDX SBOM', () => {
  it("made from a build's package.json: its dependencies as npm libraries with purls, valid CycloneDX 1.5, same bytes each time", async () => {
    const dir = folder({ 'app.mjs': 'export default 1', 'package.json': JSON.stringify({ name: 'shop', dependencies: { 'left-pad': '^1.3.0', '@acme/log': '2.0.1' } }) });
    const text = makeSbom({ dir, service: 'shop', version: 'v1.2.3' });
    expect(makeSbom({ dir, service: 'shop', version: 'v1.2.3' })).toBe(text);
    const bom = JSON.parse(text);
    expect(bom).toMatchObject({ bomFormat: 'CycloneDX', specVersion: '1.5', metadata: { component: { type: 'application', name: 'shop', version: 'v1.2.3' } } });
    expect(bom.components.map((c: { purl: string }) => c.purl).sort()).toEqual(['pkg:npm/%40acme/log@2.0.1', 'pkg:npm/left-pad@1.3.0']);
    const read = await readSbom(Buffer.from(text), WHERE);
    expect(read).toMatchObject({ specVersion: '1.5', components: 2, sha256: createHash('sha256').update(text).digest('hex') });
  });

  it("made from a build without package.json: its own files, each with its SHA-256", async () => {
    const dir = folder({ 'app.mjs': 'export default 1', 'static/index.html': '<p>hi</p>' });
    const bom = JSON.parse(makeSbom({ dir, service: 'shop', version: 'v1.2.3' }));
    expect(bom.components.map((c: { type: string; name: string }) => `${c.type}:${c.name}`)).toEqual(['file:app.mjs', 'file:static/index.html']);
    expect(bom.components[0].hashes).toEqual([{ alg: 'SHA-256', content: createHash('sha256').update('export default 1').digest('hex') }]);
    expect((await readSbom(Buffer.from(JSON.stringify(bom)), WHERE)).components).toBe(2);
  });

  it('is validated against the schema of its own specVersion, the first problems named', async () => {
    const dir = folder({ 'app.mjs': 'x' });
    const bom = JSON.parse(makeSbom({ dir, service: 'shop', version: 'v1.2.3' }));
    const e = await invalid(JSON.stringify({ ...bom, specVersion: '1.6', colour: 'red' }));
    expect(e.message).toContain(`${WHERE} is not a valid CycloneDX 1.6 SBOM`);
    expect(e.problems[0]).toContain('must NOT have additional properties ("colour")');
    const badType = structuredClone(bom);
    badType.components[0].type = 'gizmo';
    expect((await invalid(JSON.stringify(badType))).message).toMatch(/\/components\/0\/type must be equal to one of the allowed values/);
  });

  it("gives the same verdicts as the CycloneDX library's own JsonStrictValidator, for each spec version", async () => {
    const base = JSON.parse(makeSbom({ dir: folder({ 'app.mjs': 'x' }), service: 'shop', version: 'v1.2.3' }));
    const docs = [base, { ...base, colour: 'red' }, { ...base, components: [{ type: 'library' }] }, { ...base, components: [{ type: 'gizmo', name: 'x' }] }, { ...base, serialNumber: 'not-a-urn' }];
    for (const v of ['1.4', '1.5', '1.6', '1.7'] as const) {
      const library = new Validation.JsonStrictValidator(v as Spec.Version);
      for (const doc of docs) {
        const text = JSON.stringify({ ...doc, specVersion: v, $schema: undefined });
        const theirs = await library.validate(text);
        const ours = await readSbom(Buffer.from(text), WHERE).then(() => null, (e: SbomInvalid) => e.problems);
        expect(ours === null, `${v} ${text.slice(0, 120)}`).toBe(theirs === null);
      }
    }
  });

  it('refuses what is not a CycloneDX JSON document, saying what CI must upload', async () => {
    expect((await invalid('{')).message).toMatch(/is not valid JSON .*CycloneDX JSON SBOM/);
    expect((await invalid(JSON.stringify({ spdxVersion: 'SPDX-2.3' }))).message).toContain('is not a CycloneDX SBOM (bomFormat undefined, expected "CycloneDX")');
    expect((await invalid(JSON.stringify({ bomFormat: 'CycloneDX', specVersion: '1.1' }))).message).toContain('specVersion "1.1" is not one tagflow validates');
  });

  it('counts nested components', () => {
    expect(countComponents([{ name: 'a', components: [{ name: 'b' }, { name: 'c', components: [{ name: 'd' }] }] }, { name: 'e' }])).toBe(5);
  });

  it("lists a VEX document's vulnerabilities: id, every rating's severity and the highest, what they affect", () => {
    const bom = {
      bomFormat: 'CycloneDX',
      specVersion: '1.5',
      vulnerabilities: [
        { id: 'CVE-2024-0001', ratings: [{ severity: 'medium', method: 'CVSSv31' }, { severity: 'critical' }], affects: [{ ref: 'pkg:npm/left-pad@1.3.0' }] },
        { id: 'GHSA-xxxx-yyyy-zzzz', ratings: [], affects: [], analysis: { state: 'not_affected' } },
        { ratings: [{ severity: 'HIGH' }] },
      ],
    };
    expect(sbomVulnerabilities(bom)).toEqual([
      { id: 'CVE-2024-0001', severities: ['medium', 'critical'], severity: 'critical', affects: ['pkg:npm/left-pad@1.3.0'] },
      { id: 'GHSA-xxxx-yyyy-zzzz', severities: ['unknown'], severity: 'unknown', affects: [], state: 'not_affected' },
      { id: 'vulnerabilities[2]', severities: ['high'], severity: 'high', affects: [] },
    ]);
    expect(sbomVulnerabilities({ bomFormat: 'CycloneDX' })).toEqual([]);
    expect(sbomVulnerabilities(null)).toEqual([]);
  });
});
