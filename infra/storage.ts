import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership, type BucketProps } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

export interface StorageProps {
  /** How long a replaced or deleted object version is kept. @default 90 days */
  noncurrentVersionRetention?: Duration;
  /** How long S3 server access logs are kept. @default 365 days */
  accessLogRetention?: Duration;
}

/**
 * The artifact store: CI's uploads (`builds/<service>/<version>/…`, `ci/<service>/<commit>.json`)
 * and the promoted copies (`<environment>/<service>/<version>/…`).
 *
 * The environments share one bucket, a prefix each, rather than a bucket each: the list of
 * environments lives in the pipeline config and changes with it, and a bucket per environment
 * would turn "add qa" into a new retained bucket (and "remove qa" into an orphaned one) on
 * every config edit; the isolation a release needs comes from the IAM grants, which the stack
 * scopes to the configured environments' prefixes.
 *
 * Every bucket is versioned (a promoted file overwritten by mistake can still be recovered and
 * compared), S3-managed encryption, no public access, TLS only, retained when the stack is
 * deleted, and logs its requests to the access-logs bucket.
 */
export class Storage extends Construct {
  readonly artifacts: Bucket;
  readonly environments: Bucket;
  readonly accessLogs: Bucket;

  constructor(scope: Construct, id: string, props: StorageProps = {}) {
    super(scope, id);
    // S3 server access logs are delivered under a bucket policy for logging.s3.amazonaws.com,
    // not the legacy LogDeliveryWrite ACL (ACLs are off: BucketOwnerEnforced). Set here, not
    // only in cdk.json, so every app that builds this construct (the tests too) gets it.
    this.node.setContext('@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy', true);
    const secure = {
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: RemovalPolicy.RETAIN,
    } satisfies BucketProps;

    this.accessLogs = new Bucket(this, 'AccessLogs', {
      ...secure,
      lifecycleRules: [{ id: 'expire-access-logs', expiration: props.accessLogRetention ?? Duration.days(365) }],
    });
    Validations.of(this.accessLogs).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This is the server access logs bucket itself; logging its own requests would log the log deliveries.',
    });

    const versioned = (name: string): BucketProps => ({
      ...secure,
      versioned: true,
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: `${name}/`,
      lifecycleRules: [
        {
          id: 'expire-noncurrent-versions',
          noncurrentVersionExpiration: props.noncurrentVersionRetention ?? Duration.days(90),
          abortIncompleteMultipartUploadAfter: Duration.days(7),
        },
      ],
    });
    this.artifacts = new Bucket(this, 'Artifacts', versioned('artifacts'));
    this.environments = new Bucket(this, 'Environments', versioned('environments'));
  }
}
