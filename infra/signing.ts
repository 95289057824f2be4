import { CfnOutput, RemovalPolicy } from 'aws-cdk-lib';
import { type IGrantable, type ManagedPolicy, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Key, KeySpec, KeyUsage } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

/** What CI does with the key: sign build manifests, and name the key in the envelope (its public half). */
export const SIGN_ACTIONS = ['kms:Sign', 'kms:GetPublicKey'];
/** What verifiers do: read the public half once per warm function; every verification is then local. */
export const PUBLIC_KEY_ACTIONS = ['kms:GetPublicKey'];

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
    this.key = new Key(this, 'Key', {
      keySpec: KeySpec.ECC_NIST_P256,
      keyUsage: KeyUsage.SIGN_VERIFY,
      description: 'tagflow: CI signs build manifests (DSSE, ECDSA P-256); the pipeline verifies with its public key',
      removalPolicy: RemovalPolicy.RETAIN,
    });
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
