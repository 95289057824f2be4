import { KMSClient } from '@aws-sdk/client-kms';
import { once } from '../../lib/step-handler.js';
import type { MessageSigner } from '../../lib/supply-chain/dsse.js';
import { KmsSigner } from '../kms-signer.js';

/**
 * The stack's verification key (VERIFICATION_KEY_ARN, set on attest-environment only): signs
 * the verification summaries. A key apart from CI's signing key, so CI cannot vouch for itself.
 */
export const verificationSigner = once((): MessageSigner | undefined => {
  const arn = process.env.VERIFICATION_KEY_ARN;
  return arn ? new KmsSigner(new KMSClient({}), arn) : undefined;
});
