import type { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import type { KMSClient } from '@aws-sdk/client-kms';
import type { MessageSigner } from '../../lambdas/lib/supply-chain/dsse.js';
import { localSigner, signingKeyPaths } from '../runtime/local-signer.js';

/**
 * What `publish-build` and `publish-config` sign the manifest with: against a stack, its KMS key
 * (output SigningKeyArn, as CI does); locally, the data dir's key when `tagflow local keygen`
 * made one. None: the build is published unsigned, which a service requiring signatures refuses.
 */
export type PublishTarget =
  | { kind: 'local'; dataDir: string }
  | { kind: 'stack'; stack: string; region: string; cloudformation: CloudFormationClient; kms?: KMSClient };

export async function publishSigner(target: PublishTarget): Promise<MessageSigner | undefined> {
  if (target.kind === 'local') return localSigner(target.dataDir);
  const { stackSigner } = await import('./aws/stack-signer.js');
  return stackSigner(target.cloudformation, target.stack, target.region, target.kms);
}

/** The line publish-build prints after its own: which key signed, or why nothing did. */
export async function describeSigning(signer: MessageSigner | undefined, target: PublishTarget): Promise<string> {
  if (signer) return `manifest signed by key ${(await signer.keyid()).slice(0, 16)} (${target.kind === 'local' ? signingKeyPaths(target.dataDir).privateKey : `stack ${target.stack}'s SigningKeyArn`})`;
  return target.kind === 'local'
    ? `manifest not signed: no key at ${signingKeyPaths(target.dataDir).privateKey} (tagflow local keygen makes one; a service with supplyChain.signatures "required" refuses unsigned builds)`
    : `manifest not signed: stack ${target.stack} has no SigningKeyArn output (deploy this version of the stack to sign builds)`;
}
