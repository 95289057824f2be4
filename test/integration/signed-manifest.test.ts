import { generateKeyPairSync, sign } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { environmentManifestKey, environmentSignatureKey, manifestKey, manifestSignatureKey } from '../../lambdas/lib/keys.js';
import { IN_TOTO_PAYLOAD_TYPE, keyIdOf, type MessageSigner, signEnvelope } from '../../lambdas/lib/supply-chain/dsse.js';
import { resolveArtifact } from '../../lambdas/lib/steps/resolve-artifact.js';
import { promote } from '../../lambdas/lib/steps/promote.js';
import { keygen } from '../../local/cli/keygen.js';
import { publishBuild, publishConfig, reportTests } from '../../local/runtime/ci.js';
import { localSigner } from '../../local/runtime/local-signer.js';
import { LOCAL_LOCATIONS } from '../../local/runtime/runtime.js';
import { commitOf, demoConfig, GOOD_DIR, GREEN, startHarness, statesEntered, type Harness } from '../support/harness.js';

/**
 * Signed build manifests through the real release.asl.json (issue 17): services that require
 * signatures, the data dir's key (tagflow local keygen) as the pipeline's signing key. Each
 * test releases its own service; a refused build leaves every environment where it was.
 */

const REQUIRED = ['signed', 'unsigned', 'other-key', 'tampered', 'wrong-type', 'config-signed', 'promote-copy'];
/** Pins the other key (supplyChain.publicKey): it, not the data dir's, is the one trusted. */
const PINNED = 'pinned';
const bucket = LOCAL_LOCATIONS.artifactsBucket;

let h: Harness;
let keyid: string;
const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const otherSigner: MessageSigner = { keyid: async () => keyIdOf(other.publicKey), sign: async (m) => sign('sha256', m, { key: other.privateKey, dsaEncoding: 'der' }) };

beforeAll(async () => {
  const pem = other.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const services = Object.fromEntries([
    ...REQUIRED.map((name) => [name, (s: Record<string, unknown>) => void (s.supplyChain = { signatures: 'required' })] as const),
    [PINNED, (s: Record<string, unknown>) => void (s.supplyChain = { signatures: 'required', publicKey: pem })] as const,
    ['not-required', null] as const,
  ]);
  h = await startHarness({ config: demoConfig({ services }) });
  keyid = keygen(h.dataDir).keyid;
});
afterAll(async () => h?.close());

const release = (service: string, version: string) => h.rt.startExecution('release', { service, version }).done;

/** `null`: published unsigned. */
async function publish(service: string, version: string, signer: MessageSigner | null = localSigner(h.dataDir)!) {
  await publishBuild(h.rt.deps.store, bucket, { service, version, commit: commitOf(version), dir: GOOD_DIR, entry: 'app.mjs', ...(signer ? { signer } : {}) });
  await reportTests(h.rt.deps.store, bucket, service, commitOf(version), GREEN);
}

/** v1.0.0 signed and live everywhere: what a refused v1.0.1 must leave in place. */
async function shipped(service: string): Promise<void> {
  await publish(service, 'v1.0.0');
  const s = await release(service, 'v1.0.0');
  expect([s.status, s.error, s.cause]).toEqual(['SUCCEEDED', undefined, undefined]);
}

/** The release was refused at Resolve artifact: no environment entered, promoted or moved, and the refusal is in the ledger. */
async function expectRefused(service: string, s: Awaited<ReturnType<typeof release>>): Promise<string> {
  expect(s).toMatchObject({ status: 'FAILED', error: 'ManifestSignatureInvalid' });
  const entered = statesEntered(s.history);
  expect(entered).toContain('Resolve artifact');
  expect(entered).not.toContain('Promote');
  expect(await h.promotedAnywhere(service, 'v1.0.1')).toEqual([]);
  for (const env of ['dev', 'staging', 'prod']) expect((await h.rt.deps.ledger.getEnvironment(service, env))?.version, env).toBe('v1.0.0');
  const failed = (await h.rt.deps.ledger.decisions(service, 'v1.0.1')).filter((d) => d.step === 'resolve-artifact');
  expect(failed).toHaveLength(1);
  expect(failed[0]).toMatchObject({ verdict: 'failed', summary: s.cause });
  expect(await h.rt.deps.ledger.getOutcome(service, 'v1.0.1')).toMatchObject({ outcome: 'failed', error: 'ManifestSignatureInvalid' });
  return s.cause!;
}

describe('signed build manifests', () => {
  it('a build signed with the pipeline\'s key ships; each environment holds the envelope beside the manifest, and the ledger names the key', async () => {
    const service = 'signed';
    await publish(service, 'v1.0.0');
    const s = await release(service, 'v1.0.0');
    expect([s.status, s.error, s.cause]).toEqual(['SUCCEEDED', undefined, undefined]);

    const signature = await h.rt.deps.store.get({ bucket, key: manifestSignatureKey(service, 'v1.0.0') });
    for (const env of ['dev', 'staging', 'prod']) {
      expect(Buffer.from((await h.rt.deps.store.get({ bucket: LOCAL_LOCATIONS.environmentsBucket, key: environmentSignatureKey(env, service, 'v1.0.0') }))!)).toEqual(Buffer.from(signature!));
    }
    const decisions = await h.rt.deps.ledger.decisions(service, 'v1.0.0');
    const resolved = decisions.find((d) => d.step === 'resolve-artifact')!;
    expect(resolved).toMatchObject({ verdict: 'passed', evidence: { signature: { keyid, key: expect.stringContaining('signing/public.pem') } } });
    expect(resolved.summary).toContain(`manifest signed by key ${keyid.slice(0, 16)}`);
    const promoted = decisions.filter((d) => d.step === 'promote');
    expect(promoted.map((d) => [d.environment, d.verdict])).toEqual([['dev', 'passed'], ['staging', 'passed'], ['prod', 'passed']]);
    for (const d of promoted) expect(d.summary).toContain(`the copied manifest's signature verifies with key ${keyid.slice(0, 16)}`);
  });

  it('refuses an unsigned manifest', async () => {
    const service = 'unsigned';
    await shipped(service);
    await publish(service, 'v1.0.1', null);
    const cause = await expectRefused(service, await release(service, 'v1.0.1'));
    expect(cause).toBe(
      `build manifest s3://${bucket}/${manifestKey(service, 'v1.0.1')} is not signed: there is no signature at s3://${bucket}/${manifestSignatureKey(service, 'v1.0.1')}, and signed builds are required (supplyChain.signatures "required"). Do not release this build: publish it again from CI, which signs the manifest (tagflow publish-build signs with the stack's SigningKeyArn, or locally with the key of tagflow local keygen)`,
    );
  });

  it('refuses a manifest signed by another key, naming both keys', async () => {
    const service = 'other-key';
    await shipped(service);
    await publish(service, 'v1.0.1', otherSigner);
    const cause = await expectRefused(service, await release(service, 'v1.0.1'));
    expect(cause).toContain(`build manifest s3://${bucket}/${manifestKey(service, 'v1.0.1')} is signed by key ${keyIdOf(other.publicKey).slice(0, 16)}, not by the pipeline's signing key ${keyid.slice(0, 16)} (the data dir's key `);
    const failed = (await h.rt.deps.ledger.decisions(service, 'v1.0.1')).find((d) => d.step === 'resolve-artifact')!;
    expect(failed.evidence).toMatchObject({ problem: 'other-key', keyid, signedBy: [keyIdOf(other.publicKey)] });
  });

  it('refuses a manifest changed after it was signed, though every checksum in it still matches its file', async () => {
    const service = 'tampered';
    await shipped(service);
    await publish(service, 'v1.0.1');
    // Whoever can write the bucket rewrites the manifest consistently: every checksum in it would pass.
    const key = manifestKey(service, 'v1.0.1');
    const manifest = JSON.parse(Buffer.from((await h.rt.deps.store.get({ bucket, key }))!).toString('utf8'));
    manifest.entry = 'app.mjs';
    manifest.build = 'rebuilt-by-someone-else';
    await h.rt.deps.store.put({ bucket, key }, JSON.stringify(manifest, null, 2));
    const cause = await expectRefused(service, await release(service, 'v1.0.1'));
    expect(cause).toMatch(new RegExp(`^build manifest s3://${bucket}/${key} was changed after it was signed: its bytes \\(SHA-256 [0-9a-f]{16}…\\) are not the signed ones in s3://${bucket}/${manifestSignatureKey(service, 'v1.0.1')}`));
  });

  it('refuses an envelope that signs something else than a build manifest', async () => {
    const service = 'wrong-type';
    await shipped(service);
    await publish(service, 'v1.0.1');
    const manifest = (await h.rt.deps.store.get({ bucket, key: manifestKey(service, 'v1.0.1') }))!;
    const envelope = await signEnvelope(localSigner(h.dataDir)!, IN_TOTO_PAYLOAD_TYPE, manifest);
    await h.rt.deps.store.put({ bucket, key: manifestSignatureKey(service, 'v1.0.1') }, JSON.stringify(envelope));
    const cause = await expectRefused(service, await release(service, 'v1.0.1'));
    expect(cause).toContain(`the signature s3://${bucket}/${manifestSignatureKey(service, 'v1.0.1')} signs a "${IN_TOTO_PAYLOAD_TYPE}", not a build manifest`);
  });

  it('a config-only release is signed too: its own manifest is verified, then ships', async () => {
    const service = 'config-signed';
    await shipped(service);
    await publishConfig(h.rt.deps.store, bucket, { service, version: 'v1.0.0-config.1', env: { GREETING: 'hi' }, signer: localSigner(h.dataDir)! });
    const s = await release(service, 'v1.0.0-config.1');
    expect([s.status, s.error, s.cause]).toEqual(['SUCCEEDED', undefined, undefined]);
    expect(await h.rt.deps.store.get({ bucket: LOCAL_LOCATIONS.environmentsBucket, key: environmentSignatureKey('prod', service, 'v1.0.0-config.1') })).toBeDefined();

    await publishConfig(h.rt.deps.store, bucket, { service, version: 'v1.0.0-config.2', env: { GREETING: 'hey' } });
    const refused = await release(service, 'v1.0.0-config.2');
    expect(refused).toMatchObject({ status: 'FAILED', error: 'ManifestSignatureInvalid', cause: expect.stringContaining('is not signed') });
    expect((await h.rt.deps.ledger.getEnvironment(service, 'dev'))?.version).toBe('v1.0.0-config.1');
  });

  it('a pinned supplyChain.publicKey is the key trusted: a build signed with it ships, one signed with the data dir\'s key is refused', async () => {
    await publish(PINNED, 'v1.0.0', otherSigner);
    const s = await release(PINNED, 'v1.0.0');
    expect([s.status, s.error, s.cause]).toEqual(['SUCCEEDED', undefined, undefined]);
    const resolved = (await h.rt.deps.ledger.decisions(PINNED, 'v1.0.0')).find((d) => d.step === 'resolve-artifact')!;
    expect(resolved.evidence).toMatchObject({ signature: { keyid: keyIdOf(other.publicKey), key: 'the pinned supplyChain.publicKey' } });

    await publish(PINNED, 'v1.0.1');
    const cause = await expectRefused(PINNED, await release(PINNED, 'v1.0.1'));
    expect(cause).toContain(`is signed by key ${keyid.slice(0, 16)}, not by the pipeline's signing key ${keyIdOf(other.publicKey).slice(0, 16)} (the pinned supplyChain.publicKey)`);
  });

  it('a service that does not require signatures releases an unsigned build as before', async () => {
    await publish('not-required', 'v1.0.0', null);
    const s = await release('not-required', 'v1.0.0');
    expect([s.status, s.error]).toEqual(['SUCCEEDED', undefined]);
    const resolved = (await h.rt.deps.ledger.decisions('not-required', 'v1.0.0')).find((d) => d.step === 'resolve-artifact')!;
    expect(resolved.evidence).not.toHaveProperty('signature');
  });
});

describe('promotion re-verifies the promoted copy', () => {
  it('refuses a promoted manifest that is not what was signed, and records it', async () => {
    const service = 'promote-copy';
    await publish(service, 'v2.0.0');
    const release = { service, version: 'v2.0.0', releaseId: `${service}#v2.0.0` } as never;
    const artifact = await resolveArtifact({ release, service: { supplyChain: { signatures: 'required' } } }, h.rt.deps);
    expect(artifact.signature).toMatchObject({ keyid });

    // Verified at Resolve artifact, then changed before Promote copies it.
    const key = manifestKey(service, 'v2.0.0');
    await h.rt.deps.store.put({ bucket, key }, Buffer.concat([Buffer.from((await h.rt.deps.store.get({ bucket, key }))!), Buffer.from('\n')]));
    await expect(promote({ release, environment: { name: 'dev' }, artifact }, h.rt.deps)).rejects.toMatchObject({
      name: 'ManifestSignatureInvalid',
      message: expect.stringContaining(`build manifest s3://${LOCAL_LOCATIONS.environmentsBucket}/${environmentManifestKey('dev', service, 'v2.0.0')} was changed after it was signed`),
    });
    const decided = (await h.rt.deps.ledger.decisions(service, 'v2.0.0')).filter((d) => d.step === 'promote');
    expect(decided).toMatchObject([{ environment: 'dev', verdict: 'failed', evidence: { problem: 'changed-after-signing', keyid } }]);
  });
});
