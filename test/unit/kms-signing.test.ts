import { GetPublicKeyCommand, KMSClient, KMSInvalidStateException, KMSServiceException, SignCommand, type GetPublicKeyCommandOutput } from '@aws-sdk/client-kms';
import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { KmsSigner } from '../../lambdas/adapters/kms-signer.js';
import { kmsPublicKey } from '../../lambdas/adapters/kms-public-key.js';
import { keyIdOf, MANIFEST_PAYLOAD_TYPE, pae, signEnvelope, verifyEnvelope } from '../../lambdas/lib/supply-chain/dsse.js';
import { verifySignedManifest } from '../../lambdas/lib/supply-chain/signed-manifest.js';

/**
 * The KMS adapters against real-shaped KMS answers: GetPublicKey's PublicKey is the DER
 * SubjectPublicKeyInfo of a real P-256 key, and Sign's Signature is a real DER ECDSA signature
 * by its private half, so every verification below is real.
 */

const ARN = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const kms = mockClient(KMSClient);
const client = new KMSClient({ region: 'eu-west-1', maxAttempts: 1 });
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest();
/** KMS answers a throttled request with HTTP 400 and error code ThrottlingException (no modelled class). */
const throttled = () => new KMSServiceException({ name: 'ThrottlingException', $fault: 'client', message: 'Rate exceeded', $metadata: { httpStatusCode: 400 } });

/** The pair KMS holds. Sign is answered for digests of messages the test is about to sign (ECDSA over a SHA-256 digest = ECDSA_SHA_256 over its message). */
let pair: { privateKey: KeyObject; publicKey: KeyObject };
const preimages = new Map<string, Uint8Array>();
const expectSigning = (message: Uint8Array) => preimages.set(sha256(message).toString('hex'), message);

const publicKeyAnswer = (publicKey: KeyObject, over: Partial<GetPublicKeyCommandOutput> = {}): GetPublicKeyCommandOutput => ({
  $metadata: { httpStatusCode: 200 },
  KeyId: ARN,
  PublicKey: new Uint8Array(publicKey.export({ type: 'spki', format: 'der' })),
  CustomerMasterKeySpec: 'ECC_NIST_P256',
  KeySpec: 'ECC_NIST_P256',
  KeyUsage: 'SIGN_VERIFY',
  SigningAlgorithms: ['ECDSA_SHA_256'],
  ...over,
});

beforeEach(() => {
  kms.reset();
  preimages.clear();
  pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  kms.on(GetPublicKeyCommand).resolves(publicKeyAnswer(pair.publicKey));
  kms.on(SignCommand).callsFake((input: { Message: Uint8Array; MessageType: string; SigningAlgorithm: string }) => {
    const message = preimages.get(Buffer.from(input.Message).toString('hex'));
    if (input.MessageType !== 'DIGEST' || input.SigningAlgorithm !== 'ECDSA_SHA_256' || !message) throw new Error('unexpected Sign request');
    return { KeyId: ARN, Signature: new Uint8Array(sign('sha256', message, { key: pair.privateKey, dsaEncoding: 'der' })), SigningAlgorithm: 'ECDSA_SHA_256' };
  });
});

describe('KmsSigner', () => {
  it('sends KMS the SHA-256 of the message (DIGEST, ECDSA_SHA_256) and makes an envelope that verifies with the key\'s public half', async () => {
    const signer = new KmsSigner(client, ARN);
    const manifest = Buffer.from(JSON.stringify({ service: 'api', version: 'v1.0.0', files: [] }, null, 2));
    expectSigning(pae(MANIFEST_PAYLOAD_TYPE, manifest));
    const envelope = await signEnvelope(signer, MANIFEST_PAYLOAD_TYPE, manifest);

    expect(kms).toHaveReceivedCommandExactlyOnceWith(SignCommand, { KeyId: ARN, MessageType: 'DIGEST', SigningAlgorithm: 'ECDSA_SHA_256', Message: new Uint8Array(sha256(pae(MANIFEST_PAYLOAD_TYPE, manifest))) });
    expect(envelope.signatures).toEqual([{ keyid: keyIdOf(pair.publicKey), sig: expect.any(String) }]);
    expect(verifyEnvelope(envelope, pair.publicKey, MANIFEST_PAYLOAD_TYPE, 'envelope')).toEqual(manifest);
    // Another key does not verify it: the signature is really by KMS's key.
    expect(() => verifyEnvelope(envelope, generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey, MANIFEST_PAYLOAD_TYPE, 'envelope')).toThrow(/signed by key/);
  });

  it('signs a manifest past KMS\'s 4 KB RAW limit (only its 32-byte digest is sent), asking for the public key once', async () => {
    const signer = new KmsSigner(client, ARN);
    const big = Buffer.from(JSON.stringify({ files: Array.from({ length: 200 }, (_, i) => ({ path: `static/asset-${i}.js`, size: i, sha256: 'a'.repeat(64) })) }));
    expect(big.byteLength).toBeGreaterThan(4096);
    for (const _ of [1, 2]) {
      expectSigning(pae(MANIFEST_PAYLOAD_TYPE, big));
      const envelope = await signEnvelope(signer, MANIFEST_PAYLOAD_TYPE, big);
      expect(verifyEnvelope(envelope, pair.publicKey, MANIFEST_PAYLOAD_TYPE, 'envelope')).toEqual(big);
    }
    for (const call of kms.commandCalls(SignCommand)) expect(call.args[0].input.Message).toHaveLength(32);
    expect(kms).toHaveReceivedCommandTimes(GetPublicKeyCommand, 1);
  });

  it('refuses a key that is not an ECC_NIST_P256 signing key, naming it', async () => {
    kms.on(GetPublicKeyCommand).resolves(publicKeyAnswer(generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey, { KeySpec: 'RSA_2048', CustomerMasterKeySpec: 'RSA_2048', SigningAlgorithms: ['RSASSA_PSS_SHA_256'] }));
    await expect(new KmsSigner(client, ARN).keyid()).rejects.toThrow(`KMS key ${ARN} is RSA_2048 for SIGN_VERIFY: tagflow signs with an ECC_NIST_P256 SIGN_VERIFY key`);
  });

  it('a throttled Sign is DependencyUnavailable (the pipeline retries it); a disabled key is not', async () => {
    kms.on(SignCommand).rejectsOnce(throttled()).rejectsOnce(new KMSInvalidStateException({ message: `${ARN} is disabled.`, $metadata: {} }));
    const signer = new KmsSigner(client, ARN);
    await expect(signer.sign(Buffer.from('x'))).rejects.toMatchObject({ name: 'DependencyUnavailable', message: expect.stringContaining(`KMS Sign ${ARN} failed after retries: ThrottlingException`) });
    await expect(signer.sign(Buffer.from('x'))).rejects.toMatchObject({ name: 'KMSInvalidStateException' });
  });
});

describe('kmsPublicKey', () => {
  it('asks KMS once per warm function: later verifications are local', async () => {
    const source = kmsPublicKey(client, ARN);
    const manifest = Buffer.from('{"service":"api"}');
    expectSigning(pae(MANIFEST_PAYLOAD_TYPE, manifest));
    const envelope = Buffer.from(JSON.stringify(await signEnvelope(new KmsSigner(client, ARN), MANIFEST_PAYLOAD_TYPE, manifest)));
    kms.resetHistory();
    for (const _ of [1, 2, 3]) {
      const trusted = await source.trusted();
      expect(trusted).toMatchObject({ keyid: keyIdOf(pair.publicKey), source: `KMS key ${ARN}` });
      expect(verifySignedManifest(manifest, envelope, trusted, { manifest: 'm', envelope: 'e', remedy: '' })).toEqual(manifest);
    }
    expect(kms).toHaveReceivedCommandExactlyOnceWith(GetPublicKeyCommand, { KeyId: ARN });
    expect(kms).toHaveReceivedCommandTimes(SignCommand, 0);
  });

  it('does not keep a failed fetch: the next verification asks again', async () => {
    kms.on(GetPublicKeyCommand).rejectsOnce(throttled()).resolves(publicKeyAnswer(pair.publicKey));
    const source = kmsPublicKey(client, ARN);
    await expect(source.trusted()).rejects.toMatchObject({ name: 'DependencyUnavailable' });
    await expect(source.trusted()).resolves.toMatchObject({ keyid: keyIdOf(pair.publicKey) });
    expect(kms).toHaveReceivedCommandTimes(GetPublicKeyCommand, 2);
  });

  it('a manifest signed by another key is refused with both key ids', async () => {
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const manifest = Buffer.from('{"service":"api"}');
    const foreign = { keyid: async () => keyIdOf(other.publicKey), sign: async (m: Uint8Array) => sign('sha256', m, { key: other.privateKey, dsaEncoding: 'der' }) };
    const envelope = Buffer.from(JSON.stringify(await signEnvelope(foreign, MANIFEST_PAYLOAD_TYPE, manifest)));
    const trusted = await kmsPublicKey(client, ARN).trusted();
    expect(() => verifySignedManifest(manifest, envelope, trusted, { manifest: 's3://a/manifest.json', envelope: 's3://a/manifest.dsse.json', remedy: 'Publish again.' })).toThrow(
      `build manifest s3://a/manifest.json is signed by key ${keyIdOf(other.publicKey).slice(0, 16)}, not by the pipeline's signing key ${trusted.keyid.slice(0, 16)} (KMS key ${ARN}). Publish again.`,
    );
  });
});
