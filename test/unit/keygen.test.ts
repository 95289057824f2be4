import { createPublicKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { describeKeygen, keygen } from '../../local/cli/keygen.js';
import { keyIdOf, MANIFEST_PAYLOAD_TYPE, signEnvelope } from '../../lambdas/lib/supply-chain/dsse.js';
import { verifySignedManifest } from '../../lambdas/lib/supply-chain/signed-manifest.js';
import { localPublicKey, localSigner, signingKeyPaths } from '../../local/runtime/local-signer.js';

let dataDir: string;
beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'tagflow-keygen-'));
});
afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

describe('tagflow local keygen', () => {
  it('makes an ECDSA P-256 pair in the data dir, the private key readable by its owner only, and names its keyid', () => {
    const r = keygen(dataDir);
    expect(r).toEqual({ keyid: expect.stringMatching(/^[0-9a-f]{64}$/), ...signingKeyPaths(dataDir) });
    expect(statSync(r.privateKey).mode & 0o777).toBe(0o600);
    const pub = createPublicKey(readFileSync(r.publicKey, 'utf8'));
    expect(pub.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(keyIdOf(pub)).toBe(r.keyid);
    expect(describeKeygen(r)).toContain(`signing key ${r.keyid}`);
    expect(describeKeygen(r)).toContain(r.publicKey);
  });

  it('refuses to replace a key unless forced; forced, the new key is another and still 0600', () => {
    const first = keygen(dataDir);
    expect(() => keygen(dataDir)).toThrow(expect.objectContaining({ name: 'KeyExists', exitCode: 2, message: expect.stringContaining(`a signing key already exists at ${first.privateKey}`) }));
    expect(keyIdOf(readFileSync(first.publicKey, 'utf8'))).toBe(first.keyid);
    const second = keygen(dataDir, { force: true });
    expect(second.keyid).not.toBe(first.keyid);
    expect(statSync(second.privateKey).mode & 0o777).toBe(0o600);
  });

  it('the data dir\'s signer signs what the data dir\'s public key verifies; without a key there is no signer and verifying says to run keygen', async () => {
    expect(localSigner(dataDir)).toBeUndefined();
    await expect(localPublicKey(dataDir).trusted()).rejects.toMatchObject({ name: 'ManifestSignatureInvalid', message: expect.stringContaining('run tagflow local keygen') });
    const { keyid } = keygen(dataDir);
    const signer = localSigner(dataDir)!;
    expect(await signer.keyid()).toBe(keyid);
    const manifest = Buffer.from('{"service":"demo"}');
    const envelope = Buffer.from(JSON.stringify(await signEnvelope(signer, MANIFEST_PAYLOAD_TYPE, manifest)));
    const trusted = await localPublicKey(dataDir).trusted();
    expect(trusted.keyid).toBe(keyid);
    expect(verifySignedManifest(manifest, envelope, trusted, { manifest: 'm', envelope: 'e', remedy: '' })).toEqual(manifest);
  });
});
