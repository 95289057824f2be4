import { CfnOutput } from 'aws-cdk-lib';
import { ManagedPolicy, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledgeWildcardResource } from './nag.js';
import type { SigningKey } from './signing.js';

/** Where CI writes in the artifacts bucket: builds and manifests, and test results. */
export const CI_PREFIXES = ['builds/', 'ci/'] as const;

/**
 * The managed policy for CI's role or user: it may upload builds (`builds/<service>/<version>/…`,
 * with their manifest) and test results (`ci/<service>/<commit>.json`) to the artifacts bucket,
 * and nothing else: no reads, no deletes, not the environments bucket, not the ledger. A
 * multipart upload (large files; `aws s3 cp` switches at 8 MB) needs only `s3:PutObject`;
 * `s3:AbortMultipartUpload` lets the uploader clean up after a failed one. With the signing key,
 * it also signs build manifests (kms:Sign on that key): no other role in the stack may.
 */
export class CiUploader extends Construct {
  readonly policy: ManagedPolicy;

  constructor(scope: Construct, id: string, props: { artifacts: IBucket; signingKey?: SigningKey }) {
    super(scope, id);
    const objects = CI_PREFIXES.map((p) => props.artifacts.arnForObjects(`${p}*`));
    this.policy = new ManagedPolicy(this, 'Policy', {
      description: 'tagflow CI: may upload builds/* and ci/* to the artifacts bucket, and nothing else',
      statements: [new PolicyStatement({ actions: ['s3:PutObject', 's3:AbortMultipartUpload'], resources: objects })],
    });
    props.signingKey?.grantSign(this.policy);
    for (const [i, p] of CI_PREFIXES.entries()) {
      acknowledgeWildcardResource(this.policy, objects[i]!, `Objects under the artifacts bucket's "${p}" prefix only: CI names each build's service, version and files (or each commit's test results) when it uploads them.`);
    }
    new CfnOutput(scope, 'CiUploaderPolicyArn', { value: this.policy.managedPolicyArn, description: 'Attach to the IAM role your CI assumes (e.g. GitHub OIDC): it may upload builds/* and ci/* to the artifacts bucket only' });
  }
}
