import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_BUILDER, DEMO_REPOSITORY, makeProvenance, makeSbom } from '../../local/runtime/attestations.js';
import { commitOf, exampleConfigJson, GOOD_DIR } from '../support/harness.js';
import { runTagflow } from '../support/cli.js';

/**
 * Issue 17 through the CLI over a local data folder: `local keygen`, `publish-build` signing the
 * manifest and the bare provenance statement it is given and attaching the SBOM, a release that
 * verifies all of it, and `local scan-image` recording an image's findings.
 */

describe('tagflow local keygen, publish-build --provenance --sbom, scan-image', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tagflow-supply-cli-'));
    const raw = exampleConfigJson();
    const demo = raw.services.demo!;
    demo.environments = demo.environments.slice(0, 1);
    demo.supplyChain = { signatures: 'required', provenance: 'required', builders: [DEMO_BUILDER], repository: DEMO_REPOSITORY, sbom: 'required' };
    raw.services = { demo };
    writeFileSync(join(dir, 'tagflow.config.json'), JSON.stringify(raw));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const cli = (...args: string[]) => runTagflow(args, { config: join(dir, 'tagflow.config.json'), dataDir: join(dir, 'data') });


  async function publish(version: string) {
    const commit = commitOf(version);
    const provenance = join(dir, `${version}.intoto.json`);
    const sbom = join(dir, `${version}.cdx.json`);
    writeFileSync(provenance, JSON.stringify(makeProvenance({ dir: GOOD_DIR, repository: DEMO_REPOSITORY, commit, builder: DEMO_BUILDER })));
    writeFileSync(sbom, makeSbom({ dir: GOOD_DIR, service: 'demo', version }));
    const p = await cli('publish-build', '--service', 'demo', '--version', version, '--commit', commit, '--dir', GOOD_DIR, '--entry', 'app.mjs', '--provenance', provenance, '--sbom', sbom);
    expect((await cli('report-tests', '--service', 'demo', '--commit', commit, '--suite', 'unit:12:0', '--suite', 'integration:3:0')).code).toBe(0);
    return p;
  }

  it('publishes unsigned before keygen, which the release refuses; after keygen it signs and the release verifies', async () => {
    const unsigned = await publish('v1.0.0');
    expect(unsigned.code, unsigned.out).toBe(0);
    expect(unsigned.out).toContain('manifest not signed: no key at ');
    const refused = await cli('release', '--service', 'demo', '--version', 'v1.0.0');
    expect(refused.code).not.toBe(0);
    expect(refused.out).toContain('ManifestSignatureInvalid');

    const key = await cli('local', 'keygen');
    expect(key.code).toBe(0);
    const keyid = /signing key ([0-9a-f]{64})/.exec(key.out)![1]!;
    await expect(cli('local', 'keygen')).rejects.toThrow('a signing key already exists');

    const signed = await publish('v1.0.1');
    expect(signed.code, signed.out).toBe(0);
    expect(signed.out).toContain(`manifest signed by key ${keyid.slice(0, 16)}`);
    expect(signed.out).toContain('attached s3://tagflow-artifacts/builds/demo/v1.0.1/provenance.intoto.json');
    expect(signed.out).toContain('attached s3://tagflow-artifacts/builds/demo/v1.0.1/sbom.cdx.json');
    const shipped = await cli('release', '--service', 'demo', '--version', 'v1.0.1');
    expect(shipped.code, shipped.out).toBe(0);
    const history = (await cli('history', '--service', 'demo', '--version', 'v1.0.1')).out;
    expect(history).toContain(`manifest signed by key ${keyid.slice(0, 16)}`);
    expect(history).toMatch(/verify-provenance +passed +provenance: built by https:\/\/tagflow\.dev\/local-ci/);
  });

  it('scan-image records findings for the gate, and names the entry a findings file gets wrong', async () => {
    const findings = join(dir, 'findings.json');
    writeFileSync(findings, JSON.stringify([{ id: 'CVE-2024-0001', severity: 'HIGH', package: 'openssl', version: '3.0.2' }]));
    const digest = `sha256:${'a'.repeat(64)}`;
    const ok = await cli('local', 'scan-image', '--service', 'demo', '--image-digest', digest, '--findings', findings);
    expect(ok.code, ok.out).toBe(0);
    expect(ok.out).toContain(`recorded for demo@${digest}: 1 findings (basic scan)`);
    writeFileSync(findings, JSON.stringify([{ id: 'CVE-2024-0001', severity: 'SEVERE' }]));
    await expect(cli('local', 'scan-image', '--service', 'demo', '--image-digest', digest, '--findings', findings)).rejects.toThrow(`--findings ${findings}: [0].severity must be one of`);
  });
});
