import { createPrivateKey, createPublicKey, type KeyObject, sign } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { keyIdOf, type MessageSigner } from '../../lambdas/lib/supply-chain/dsse.js';
import { ManifestSignatureInvalid, type PublicKeySource, trustedKeyOf } from '../../lambdas/lib/supply-chain/signed-manifest.js';

/**
 * The local stand-in for the stack's KMS key: an ECDSA P-256 key pair in the data dir, made by
 * `tagflow local keygen`. CI's side (publish-build) signs with the private half; the local
 * runtime's Resolve artifact and Promote verify with the public half.
 */

export const signingKeyPaths = (dataDir: string) => ({
  privateKey: join(dataDir, 'signing', 'private.pem'),
  publicKey: join(dataDir, 'signing', 'public.pem'),
});

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
