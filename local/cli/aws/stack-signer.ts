import { type CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { KMSClient } from '@aws-sdk/client-kms';
import { KmsSigner } from '../../../lambdas/adapters/kms-signer.js';
import { describeAwsError } from './stack-outputs.js';

/**
 * What `publish-build --stack` signs with: the stack's KMS key (output SigningKeyArn), as CI does
 * with the CI uploader policy (kms:Sign on that key only). A stack deployed before the key
 * existed has no such output: its builds are published unsigned, as before.
 */
export async function stackSigner(cfn: CloudFormationClient, stackName: string, region: string, kms: KMSClient = new KMSClient({ region })): Promise<KmsSigner | undefined> {
  let arn: string | undefined;
  try {
    const res = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
    arn = res.Stacks?.[0]?.Outputs?.find((o) => o.OutputKey === 'SigningKeyArn')?.OutputValue;
  } catch (err) {
    throw describeAwsError(err, `stack ${stackName}`, region);
  }
  return arn ? new KmsSigner(kms, arn) : undefined;
}
