import { GetPublicKeyCommand, type GetPublicKeyCommandOutput, type KMSClient } from '@aws-sdk/client-kms';
import { createPublicKey } from 'node:crypto';
import { refreshingValue } from '../lib/refreshing-value.js';
import { type PublicKeySource, trustedKeyOf, type TrustedKey } from '../lib/supply-chain/signed-manifest.js';
import { call } from './transient.js';

/** What tagflow signs with: an ECDSA P-256 KMS key whose signatures verify with SHA-256. */
export function publicKeyOfKms(res: Pick<GetPublicKeyCommandOutput, 'PublicKey' | 'KeySpec' | 'KeyUsage' | 'SigningAlgorithms'>, keyId: string): TrustedKey {
  if (!res.PublicKey) throw new Error(`KMS GetPublicKey for ${keyId} returned no PublicKey`);
  if (res.KeySpec !== 'ECC_NIST_P256' || (res.KeyUsage && res.KeyUsage !== 'SIGN_VERIFY') || !(res.SigningAlgorithms ?? []).includes('ECDSA_SHA_256'))
    throw new Error(`KMS key ${keyId} is ${res.KeySpec ?? 'of an unknown spec'} for ${res.KeyUsage ?? 'an unknown usage'}: tagflow signs with an ECC_NIST_P256 SIGN_VERIFY key (ECDSA_SHA_256), the stack's SigningKeyArn`);
  // PublicKey is the DER SubjectPublicKeyInfo.
  return trustedKeyOf(createPublicKey({ key: Buffer.from(res.PublicKey), format: 'der', type: 'spki' }), `KMS key ${keyId}`);
}

/**
 * The pipeline's public key, fetched with GetPublicKey once per warm function and kept: every
 * later verification is local (a failed fetch is not kept, the next one tries again).
 */
export function kmsPublicKey(kms: KMSClient, keyId: string): PublicKeySource {
  const kept = refreshingValue(async () => publicKeyOfKms(await call(`KMS GetPublicKey ${keyId}`, () => kms.send(new GetPublicKeyCommand({ KeyId: keyId }))), keyId), Infinity);
  return { trusted: () => kept.get() };
}
