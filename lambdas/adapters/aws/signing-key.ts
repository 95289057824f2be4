import { KMSClient } from '@aws-sdk/client-kms';
import { once } from '../../lib/step-handler.js';
import type { PublicKeySource } from '../../lib/supply-chain/signed-manifest.js';
import { kmsPublicKey } from '../kms-public-key.js';

/**
 * The stack's signing key (SIGNING_KEY_ARN, set on resolve-artifact and promote), its public
 * half fetched once per warm function. Unset: only a pinned supplyChain.publicKey verifies.
 */
export const signingKey = once((): PublicKeySource | undefined => {
  const arn = process.env.SIGNING_KEY_ARN;
  return arn ? kmsPublicKey(new KMSClient({}), arn) : undefined;
});
