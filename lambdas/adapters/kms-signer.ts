import { SignCommand, type KMSClient } from '@aws-sdk/client-kms';
import { createHash } from 'node:crypto';
import type { MessageSigner } from '../lib/supply-chain/dsse.js';
import { kmsPublicKey } from './kms-public-key.js';
import { call } from './transient.js';

/**
 * Signs with the stack's KMS key (ECDSA P-256). KMS is sent the SHA-256 of the message
 * (`MessageType: DIGEST`): a RAW message is capped at 4 KB and a manifest may be larger. The
 * signature is DER, as DSSE verifiers read it; the keyid names the key's public half.
 */
export class KmsSigner implements MessageSigner {
  private readonly publicKey;

  constructor(
    private readonly kms: KMSClient,
    private readonly keyId: string,
  ) {
    this.publicKey = kmsPublicKey(kms, keyId);
  }

  async keyid(): Promise<string> {
    return (await this.publicKey.trusted()).keyid;
  }

  async sign(message: Uint8Array): Promise<Uint8Array> {
    const digest = createHash('sha256').update(message).digest();
    const res = await call(`KMS Sign ${this.keyId}`, () => this.kms.send(new SignCommand({ KeyId: this.keyId, Message: digest, MessageType: 'DIGEST', SigningAlgorithm: 'ECDSA_SHA_256' })));
    if (!res.Signature) throw new Error(`KMS Sign with ${this.keyId} returned no Signature`);
    return res.Signature;
  }
}
