import { CfnOutput, RemovalPolicy } from 'aws-cdk-lib';
import { type IGrantable, type ManagedPolicy, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Key, KeySpec, KeyUsage } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

/** What CI does with the key: sign build manifests, and name the key in the envelope (its public half). */
export const SIGN_ACTIONS = ['kms:Sign', 'kms:GetPublicKey'];
/** What verifiers do: read the public half once per warm function; every verification is then local. */
export const PUBLIC_KEY_ACTIONS = ['kms:GetPublicKey'];

/** An ECDSA P-256 sign/verify key, retained on stack deletion: what it signed stays verifiable with its public key. */
function p256Key(scope: Construct, description: string): Key {
  return new Key(scope, 'Key', { keySpec: KeySpec.ECC_NIST_P256, keyUsage: KeyUsage.SIGN_VERIFY, description, removalPolicy: RemovalPolicy.RETAIN });
}

/**
 * The key CI signs build manifests with (issue 17): KMS asymmetric ECDSA P-256, sign/verify.
 * Its key policy is CDK's default (the account, so that IAM policies decide); the IAM grants
 * are explicit: kms:Sign to the CI uploader policy only, kms:GetPublicKey to the steps that
 * verify. Retained on stack deletion: builds signed with it stay verifiable with its public key.
 */
export class SigningKey extends Construct {
  readonly key: Key;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.key = p256Key(this, 'tagflow: CI signs build manifests (DSSE, ECDSA P-256); the pipeline verifies with its public key');
    new CfnOutput(scope, 'SigningKeyArn', { value: this.key.keyArn, description: 'KMS key CI signs build manifests with (tagflow publish-build --stack signs with it; the CI uploader policy may kms:Sign)' });
  }

  /** CI's policy: sign with this key, nothing else in KMS. */
  grantSign(policy: ManagedPolicy): void {
    policy.addStatements(new PolicyStatement({ sid: 'SignBuildManifests', actions: SIGN_ACTIONS, resources: [this.key.keyArn] }));
  }

  grantPublicKey(grantee: IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(new PolicyStatement({ actions: PUBLIC_KEY_ACTIONS, resources: [this.key.keyArn] }));
  }
}

/**
 * The key the pipeline signs verification summaries with (SLSA VSA, issue 17): apart from CI's
 * signing key, so that CI, which may sign builds, cannot also vouch that they were verified.
 * kms:Sign is granted to the attest-environment step only (infra/step-access.ts); consumers of
 * the promoted copies verify with its public half (output VerificationKeyArn, kms:GetPublicKey).
 */
export class VerificationKey extends Construct {
  readonly key: Key;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.key = p256Key(this, 'tagflow: the pipeline signs verification summaries of known-good environments (DSSE, ECDSA P-256)');
    new CfnOutput(scope, 'VerificationKeyArn', { value: this.key.keyArn, description: 'KMS key the pipeline signs verification summaries (vsa.dsse.json beside each promoted copy) with; verify with its public key' });
  }
}
