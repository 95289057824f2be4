import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { keyIdOf, type MessageSigner } from '../../lambdas/lib/supply-chain/dsse.js';
import { ManifestSignatureInvalid, type PublicKeySource, trustedKeyOf } from '../../lambdas/lib/supply-chain/signed-manifest.js';

/**
 * The local stand-in for the stack's KMS key: an ECDSA P-256 key pair in the data dir, made by
 * `tagflow local keygen`. CI's side (publish-build) signs with the private half; the local
 * runtime's Resolve artifact and Promote verify with the public half.
 */

const keyPairPaths = (dataDir: string, name: 'signing' | 'verification') => ({
  privateKey: join(dataDir, name, 'private.pem'),
  publicKey: join(dataDir, name, 'public.pem'),
});
export const signingKeyPaths = (dataDir: string) => keyPairPaths(dataDir, 'signing');
export const verificationKeyPaths = (dataDir: string) => keyPairPaths(dataDir, 'verification');

/** Writes a new ECDSA P-256 pair: the private half readable by its owner only (0600). Returns the keyid. */
export function writeKeyPair(paths: { privateKey: string; publicKey: string }): string {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  mkdirSync(dirname(paths.privateKey), { recursive: true, mode: 0o700 });
  writeFileSync(paths.privateKey, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  // writeFileSync's mode applies only to a new file: a replaced one keeps its old mode.
  chmodSync(paths.privateKey, 0o600);
  writeFileSync(paths.publicKey, publicKey.export({ type: 'spki', format: 'pem' }), { mode: 0o644 });
  return keyIdOf(publicKey);
}

/**
 * The local pipeline's verification key, which signs verification summaries (the stack's
 * VerificationKey in AWS): apart from CI's signing key, made in the data dir on first use.
 */
export function localVerificationSigner(dataDir: string): MessageSigner {
  const paths = verificationKeyPaths(dataDir);
  let signer: FileSigner | undefined;
  const get = (): FileSigner => {
    if (!signer) {
      if (!existsSync(paths.privateKey)) writeKeyPair(paths);
      signer = new FileSigner(readFileSync(paths.privateKey));
    }
    return signer;
  };
  return { keyid: () => get().keyid(), sign: (message) => get().sign(message) };
}

/** Signs with a PEM private key: ECDSA over SHA-256, DER, exactly what KMS returns. */
export class FileSigner implements MessageSigner {
  private readonly key: KeyObject;

  constructor(privateKeyPem: string | Buffer) {
    this.key = createPrivateKey(privateKeyPem);
    const details = this.key.asymmetricKeyDetails;
    if (this.key.asymmetricKeyType !== 'ec' || details?.namedCurve !== 'prime256v1') throw new Error('the signing key must be ECDSA P-256 (make one with tagflow local keygen)');
  }

  async keyid(): Promise<string> {
    return keyIdOf(createPublicKey(this.key));
  }

  async sign(message: Uint8Array): Promise<Uint8Array> {
    return sign('sha256', message, { key: this.key, dsaEncoding: 'der' });
  }
}

/** The data dir's signer, or undefined when `tagflow local keygen` has not made one. */
export function localSigner(dataDir: string): FileSigner | undefined {
  const { privateKey } = signingKeyPaths(dataDir);
  return existsSync(privateKey) ? new FileSigner(readFileSync(privateKey)) : undefined;
}

/** The data dir's public key, read at each release (a key made after the runtime started counts). */
export function localPublicKey(dataDir: string): PublicKeySource {
  const { publicKey } = signingKeyPaths(dataDir);
  return {
    trusted: async () => {
      if (!existsSync(publicKey)) throw new ManifestSignatureInvalid(`signed builds are required but there is no public key at ${publicKey}: run tagflow local keygen, then publish the build again (it is signed when the key exists), or pin supplyChain.publicKey in the config`);
      return trustedKeyOf(readFileSync(publicKey, 'utf8'), `the data dir's key ${publicKey}`);
    },
  };
}
