import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { GetPublicKeyCommand, KMSClient, SignCommand } from '@aws-sdk/client-kms';
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { manifestKey, manifestSignatureKey } from '../../lambdas/lib/keys.js';
import type { ObjectLocation, ObjectStore } from '../../lambdas/lib/ports.js';
import { keyIdOf } from '../../lambdas/lib/supply-chain/dsse.js';
import { trustedKeyOf, verifySignedManifest } from '../../lambdas/lib/supply-chain/signed-manifest.js';
import { keygen } from '../../local/cli/keygen.js';
import { describeSigning, publishSigner } from '../../local/cli/publish-signer.js';
import { publishBuild, publishConfig } from '../../local/runtime/ci.js';

/** Objects in a map, and the order they were written in. */
class MapStore implements ObjectStore {
  readonly objects = new Map<string, Uint8Array>();
  readonly writes: string[] = [];
  async get(l: ObjectLocation) {
    return this.objects.get(l.key);
  }
  async stream(l: ObjectLocation) {
    const b = this.objects.get(l.key);
    return b ? (async function* () { yield b; })() : undefined;
  }
  async put(l: ObjectLocation, body: Uint8Array | string) {
    this.writes.push(l.key);
    this.objects.set(l.key, typeof body === 'string' ? Buffer.from(body) : body);
  }
  async copy(from: ObjectLocation, to: ObjectLocation) {
    this.writes.push(to.key);
    this.objects.set(to.key, this.objects.get(from.key)!);
  }
}

const dir = mkdtempSync(join(tmpdir(), 'tagflow-publish-signing-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const build = join(dir, 'build');
const dataDir = join(dir, 'data');
mkdirSync(build, { recursive: true });
writeFileSync(join(build, 'app.mjs'), 'export const fetch = () => new Response("ok");\n');
const at = { manifest: 'm', envelope: 'e', remedy: '' };

describe('publish-build signs locally with the data dir\'s key', () => {
  it('without a key: unsigned, and says how to make one', async () => {
    const target = { kind: 'local' as const, dataDir: join(dir, 'empty') };
    const signer = await publishSigner(target);
    expect(signer).toBeUndefined();
    expect(await describeSigning(signer, target)).toMatch(/^manifest not signed: no key at .*private\.pem \(tagflow local keygen makes one/);
  });

  it('with a key: the envelope goes up before the manifest (whose presence says the build is complete) and signs its exact bytes', async () => {
    const { keyid, publicKey } = keygen(dataDir);
    const target = { kind: 'local' as const, dataDir };
    const signer = (await publishSigner(target))!;
    expect(await describeSigning(signer, target)).toBe(`manifest signed by key ${keyid.slice(0, 16)} (${join(dataDir, 'signing', 'private.pem')})`);
    const store = new MapStore();
    await publishBuild(store, 'art', { service: 'api', version: 'v1.4.0', commit: 'c'.repeat(40), dir: build, entry: 'app.mjs', signer });
    expect(store.writes.slice(-2)).toEqual([manifestSignatureKey('api', 'v1.4.0'), manifestKey('api', 'v1.4.0')]);
    const trusted = trustedKeyOf(readFileSync(publicKey, 'utf8'), 'test');
    verifySignedManifest(store.objects.get(manifestKey('api', 'v1.4.0'))!, store.objects.get(manifestSignatureKey('api', 'v1.4.0')), trusted, at);

    await publishConfig(store, 'art', { service: 'api', version: 'v1.4.0-config.1', env: { A: '1' }, signer });
    verifySignedManifest(store.objects.get(manifestKey('api', 'v1.4.0-config.1'))!, store.objects.get(manifestSignatureKey('api', 'v1.4.0-config.1')), trusted, at);
  });

  it('a signer that fails uploads nothing', async () => {
    const store = new MapStore();
    const broken = { keyid: async () => 'k', sign: async () => Promise.reject(new Error('AccessDeniedException: not allowed to kms:Sign')) };
    await expect(publishBuild(store, 'art', { service: 'api', version: 'v1.5.0', commit: 'c'.repeat(40), dir: build, signer: broken })).rejects.toThrow('kms:Sign');
    expect(store.writes).toEqual([]);
  });
});

describe('publish-build --stack signs with the stack\'s SigningKeyArn', () => {
  const cfn = mockClient(CloudFormationClient);
  const kms = mockClient(KMSClient);
  const ARN = 'arn:aws:kms:eu-west-1:123456789012:key/mrk-0123456789abcdef';
  const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const outputs = (extra: { OutputKey: string; OutputValue: string }[]) => ({
    Stacks: [{ StackName: 'Tagflow', StackStatus: 'UPDATE_COMPLETE' as const, CreationTime: new Date(0), Outputs: [{ OutputKey: 'ArtifactsBucketName', OutputValue: 'art' }, ...extra] }],
  });
  const target = () => ({ kind: 'stack' as const, stack: 'Tagflow', region: 'eu-west-1', cloudformation: new CloudFormationClient({ region: 'eu-west-1' }), kms: new KMSClient({ region: 'eu-west-1' }) });
  beforeEach(() => {
    cfn.reset();
    kms.reset();
  });

  it('reads the key from the stack\'s outputs and signs with KMS; the build verifies with the key\'s public half', async () => {
    cfn.on(DescribeStacksCommand).resolves(outputs([{ OutputKey: 'SigningKeyArn', OutputValue: ARN }]));
    kms.on(GetPublicKeyCommand).resolves({ KeyId: ARN, PublicKey: new Uint8Array(pair.publicKey.export({ type: 'spki', format: 'der' })), KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY', SigningAlgorithms: ['ECDSA_SHA_256'] });
    // KMS signs the digest it is sent (checked against the message the signer was asked to sign, which the fake then signs).
    let asked: Uint8Array | undefined;
    kms.on(SignCommand).callsFake((input: { Message: Uint8Array }) => {
      expect(Buffer.from(input.Message)).toEqual(createHash('sha256').update(asked!).digest());
      return { KeyId: ARN, Signature: new Uint8Array(sign('sha256', asked!, { key: pair.privateKey, dsaEncoding: 'der' })), SigningAlgorithm: 'ECDSA_SHA_256' };
    });
    const t = target();
    const signer = (await publishSigner(t))!;
    const spy = { keyid: () => signer.keyid(), sign: (m: Uint8Array) => ((asked = m), signer.sign(m)) };
    expect(await describeSigning(signer, t)).toBe(`manifest signed by key ${keyIdOf(pair.publicKey).slice(0, 16)} (stack Tagflow's SigningKeyArn)`);
    const store = new MapStore();
    await publishBuild(store, 'art', { service: 'api', version: 'v2.0.0', commit: 'd'.repeat(40), dir: build, signer: spy });
    verifySignedManifest(store.objects.get(manifestKey('api', 'v2.0.0'))!, store.objects.get(manifestSignatureKey('api', 'v2.0.0')), trustedKeyOf(pair.publicKey, 'kms'), at);
    expect(kms).toHaveReceivedCommandWith(SignCommand, { KeyId: ARN, MessageType: 'DIGEST', SigningAlgorithm: 'ECDSA_SHA_256' });
  });

  it('a stack without SigningKeyArn (deployed before the key) publishes unsigned, and says so', async () => {
    cfn.on(DescribeStacksCommand).resolves(outputs([]));
    const t = target();
    const signer = await publishSigner(t);
    expect(signer).toBeUndefined();
    expect(await describeSigning(signer, t)).toBe('manifest not signed: stack Tagflow has no SigningKeyArn output (deploy this version of the stack to sign builds)');
    expect(kms).toHaveReceivedCommandTimes(GetPublicKeyCommand, 0);
  });
});
