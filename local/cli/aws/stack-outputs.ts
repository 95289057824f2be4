import { type CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';

/** What the CLI needs of a deployed stack, read from its outputs (infra/stack.ts, infra/approvals.ts). */
export interface StackLocations {
  stackName: string;
  region: string;
  ledgerTable: string;
  releaseMachineArn: string;
  rollbackMachineArn?: string;
  /** Only when the deployed config has trains. */
  trainMachineArn?: string;
  eventBusName: string;
  artifactsBucket: string;
  approvalUrl?: string;
}

/** A problem a person fixes by changing what they typed or their credentials: one line, exit 2. */
export class StackProblem extends Error {
  override name = 'StackProblem';
}

const REQUIRED = { LedgerTableName: 'ledgerTable', ReleaseStateMachineArn: 'releaseMachineArn', EventBusName: 'eventBusName', ArtifactsBucketName: 'artifactsBucket' } as const;

/** Reads the stack's outputs (DescribeStacks), naming what is wrong when it cannot. */
export async function stackLocations(cfn: CloudFormationClient, stackName: string, region: string): Promise<StackLocations> {
  let outputs: Record<string, string>;
  try {
    const res = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
    const stack = res.Stacks?.[0];
    if (!stack) throw new StackProblem(`stack ${stackName} not found in ${region}`);
    if (stack.StackStatus?.endsWith('_IN_PROGRESS') && stack.StackStatus.startsWith('CREATE')) throw new StackProblem(`stack ${stackName} in ${region} is still being created (${stack.StackStatus}): wait for cdk deploy to finish`);
    outputs = Object.fromEntries((stack.Outputs ?? []).flatMap((o) => (o.OutputKey && o.OutputValue ? [[o.OutputKey, o.OutputValue]] : [])));
  } catch (err) {
    throw describeAwsError(err, `stack ${stackName}`, region);
  }
  const missing = Object.keys(REQUIRED).filter((k) => !outputs[k]);
  if (missing.length) throw new StackProblem(`stack ${stackName} in ${region} is not a tagflow stack: it has no output ${missing.join(', ')} (deploy this project's infra/app.ts with cdk deploy, or check --stack)`);
  return {
    stackName,
    region,
    ledgerTable: outputs.LedgerTableName!,
    releaseMachineArn: outputs.ReleaseStateMachineArn!,
    ...(outputs.RollbackStateMachineArn ? { rollbackMachineArn: outputs.RollbackStateMachineArn } : {}),
    ...(outputs.TrainStateMachineArn ? { trainMachineArn: outputs.TrainStateMachineArn } : {}),
    eventBusName: outputs.EventBusName!,
    artifactsBucket: outputs.ArtifactsBucketName!,
    ...(outputs.ApprovalUrl ? { approvalUrl: outputs.ApprovalUrl } : {}),
  };
}

/**
 * An SDK error as one line a person can act on: a stack that does not exist, no credentials, no
 * region, access denied, an expired session. Anything else keeps its own message.
 */
export function describeAwsError(err: unknown, what: string, region: string): Error {
  if (err instanceof StackProblem) return err;
  const e = err as { name?: string; message?: string; Code?: string };
  const name = e.name ?? e.Code ?? '';
  const message = e.message ?? String(err);
  if (name === 'ValidationError' && /does not exist/.test(message)) return new StackProblem(`${what} does not exist in ${region}: check --stack (or TAGFLOW_STACK) and --region (or AWS_REGION)`);
  if (name === 'CredentialsProviderError' || /Could not load credentials/.test(message)) return new StackProblem(`no AWS credentials found to read ${what}: pass --profile NAME or set AWS_PROFILE (after aws sso login), or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY`);
  if (/Region is missing/i.test(message)) return new StackProblem(`no AWS region for ${what}: pass --region (e.g. --region eu-west-1) or set AWS_REGION`);
  if (name === 'ExpiredToken' || name === 'ExpiredTokenException' || /expired/i.test(message) && /token/i.test(message)) return new StackProblem(`your AWS session has expired (reading ${what}): log in again (aws sso login) and retry`);
  if (name === 'AccessDenied' || name === 'AccessDeniedException' || name === 'UnrecognizedClientException' || name === 'InvalidClientTokenId') return new StackProblem(`AWS refused to let you read ${what} in ${region} (${name}): ${message}`);
  return err instanceof Error ? err : new Error(message);
}
