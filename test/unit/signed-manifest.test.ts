import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { keyIdOf, MANIFEST_PAYLOAD_TYPE, type MessageSigner, signEnvelope } from '../../lambdas/lib/supply-chain/dsse.js';
import { trustedKey, trustedKeyOf, verifySignedManifest } from '../../lambdas/lib/supply-chain/signed-manifest.js';

/** The verdicts of verifySignedManifest that the release tests do not reach through S3. */

const signerOf = (pair: { publicKey: KeyObject; privateKey: KeyObject }, keyid?: string): MessageSigner => ({
  keyid: async () => keyid ?? keyIdOf(pair.publicKey),
  sign: async (m) => sign('sha256', m, { key: pair.privateKey, dsaEncoding: 'der' }),
});
const pipeline = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const trusted = trustedKeyOf(pipeline.publicKey, 'the test key');
const manifest = Buffer.from('{"service":"api","version":"v1.0.0"}');
const at = { manifest: 's3://a/builds/api/v1.0.0/manifest.json', envelope: 's3://a/builds/api/v1.0.0/manifest.dsse.json', remedy: 'Publish it again from CI.' };
const bytes = (v: unknown) => Buffer.from(JSON.stringify(v));
const verify = (envelope: Uint8Array | undefined, m: Uint8Array = manifest) => () => verifySignedManifest(m, envelope, trusted, at);

describe('verifySignedManifest', () => {
  it('returns the payload when the pipeline\'s key signed exactly these bytes', async () => {
    expect(verify(bytes(await signEnvelope(signerOf(pipeline), MANIFEST_PAYLOAD_TYPE, manifest)))()).toEqual(manifest);
  });

  it('an envelope naming the pipeline\'s key whose payload was swapped: changed after it was signed', async () => {
    const envelope = await signEnvelope(signerOf(pipeline), MANIFEST_PAYLOAD_TYPE, manifest);
    const forged = { ...envelope, payload: Buffer.from('{"service":"api","version":"v1.0.0","entry":"evil.mjs"}').toString('base64') };
    expect(verify(bytes(forged), Buffer.from(forged.payload, 'base64'))).toThrow(`the signature ${at.envelope} does not verify with the pipeline's signing key ${trusted.keyid.slice(0, 16)} (the test key): the signed manifest was changed after it was signed. Publish it again from CI.`);
  });

  it('another key that names no keyid: signed by another key or changed', async () => {
    const envelope = await signEnvelope(signerOf(generateKeyPairSync('ec', { namedCurve: 'P-256' }), ''), MANIFEST_PAYLOAD_TYPE, manifest);
    expect(verify(bytes(envelope))).toThrow(/signed by another key \(it names none\) or changed after it was signed/);
  });

  it('an envelope that is not JSON, or carries no signatures, is refused as malformed', () => {
    expect(verify(Buffer.from('not json'))).toThrow(expect.objectContaining({ name: 'ManifestSignatureInvalid', problem: 'malformed', message: `the signature ${at.envelope} is not valid JSON (a DSSE envelope is expected). Publish it again from CI.` }));
    expect(verify(bytes({ payloadType: MANIFEST_PAYLOAD_TYPE, payload: manifest.toString('base64'), signatures: [] }))).toThrow(expect.objectContaining({ problem: 'malformed', message: expect.stringContaining('carries no signatures') }));
  });
});

describe('trustedKey', () => {
  it('the pinned key wins and needs no source; a bad PEM names the field; no key at all says how to provide one', async () => {
    const pem = pipeline.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const never = { trusted: () => Promise.reject(new Error('must not be asked')) };
    await expect(trustedKey({ publicKey: pem }, never, 'api')).resolves.toMatchObject({ keyid: trusted.keyid, source: 'the pinned supplyChain.publicKey' });
    await expect(trustedKey({ publicKey: '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----' }, never, 'api')).rejects.toThrow(/^services\.api\.supplyChain\.publicKey is not a readable PEM public key/);
    await expect(trustedKey({}, undefined, 'api')).rejects.toMatchObject({ name: 'ManifestSignatureInvalid', message: expect.stringContaining('pin supplyChain.publicKey in the config, or deploy the stack with its signing key (SigningKeyArn), or locally run tagflow local keygen') });
  });
});
