import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { CloudWatchMetrics } from '../../../lambdas/adapters/cloudwatch-metrics.js';
import { DynamoDbLedger } from '../../../lambdas/adapters/dynamodb-ledger.js';
import { LambdaAliasServing } from '../../../lambdas/adapters/lambda-alias-serving.js';
import { S3Store } from '../../../lambdas/adapters/s3-store.js';
import { SfnExecutions } from '../../../lambdas/adapters/sfn-executions.js';
import type { PipelineConfig, TargetConfig } from '../../../lambdas/lib/config.js';
import { type FreezeAction, freezeBindingOf } from '../../../lambdas/lib/freeze-http.js';
import { DriftAcknowledgeError } from '../../../lambdas/lib/drift-acknowledge.js';
import { FreezeInputError, parseFreeze } from '../../../lambdas/lib/freezes.js';
import type { DriftMark } from '../../../lambdas/lib/types.js';
import type { LedgerFreeze, MetricsSource } from '../../../lambdas/lib/ports.js';
import { type ApproveDeps, sendSigned } from '../approve.js';
import { KMSClient } from '@aws-sdk/client-kms';
import type { Backend, MachineName, RunHandle, SentEvent } from '../backend.js';
import type { ProgressEvent } from '../progress.js';
import { consoleUrl, type FollowOptions, followExecution } from './sfn-progress.js';
import { describeAwsError, type StackLocations, StackProblem, stackLocations } from './stack-outputs.js';

/** The SDK clients a stack backend uses; tests hand in clients pointed at dynalite or mocked. */
export interface AwsClients {
  cloudformation: CloudFormationClient;
  dynamodb: DynamoDBClient;
  sfn: SFNClient;
  s3: S3Client;
  eventbridge: EventBridgeClient;
  cloudwatch: CloudWatchClient;
  lambda: LambdaClient;
  /** For publish-build's signature with the stack's SigningKeyArn; absent: one is made for the region. */
  kms?: KMSClient;
}

export interface StackTarget {
  stack: string;
  /** Absent: the SDK's own resolution (AWS_REGION, the profile's region). */
  region?: string;
  profile?: string;
}

/** The clients for a region and profile, with the SDK's usual credential chain. */
export function awsClients(target: StackTarget): AwsClients {
  const common = { ...(target.region ? { region: target.region } : {}), ...(target.profile ? { profile: target.profile } : {}) };
  return {
    cloudformation: new CloudFormationClient(common),
    dynamodb: new DynamoDBClient(common),
    sfn: new SFNClient(common),
    s3: new S3Client(common),
    eventbridge: new EventBridgeClient(common),
    cloudwatch: new CloudWatchClient(common),
    lambda: new LambdaClient(common),
    kms: new KMSClient(common),
  };
}

export interface StackBackendOptions {
  config: PipelineConfig;
  /** How requests to the approval URL are signed and sent (freezes). @default the SDK's credential chain and fetch */
  signing?: ApproveDeps;
  clients?: (target: StackTarget) => AwsClients;
  follow?: FollowOptions;
  /** Names executions the CLI starts (unique per start). */
  executionName?: (machine: MachineName, input: unknown) => string;
}

/** `--stack NAME`: the same commands, on the deployed ledger, state machines, bus and buckets. */
export async function openStackBackend(target: StackTarget, opts: StackBackendOptions): Promise<Backend> {
  const clients = (opts.clients ?? awsClients)(target);
  const region = target.region ?? (await resolvedRegion(clients.cloudformation, target.stack));
  const where = await stackLocations(clients.cloudformation, target.stack, region);
  const ledger = new DynamoDbLedger(clients.dynamodb, where.ledgerTable);
  const metrics = new CloudWatchMetrics(clients.cloudwatch);
  const serving = new LambdaAliasServing(clients.lambda);
  const guard = <T>(what: string, fn: () => Promise<T>) => fn().catch((err: unknown) => Promise.reject(describeAwsError(err, what, region)));
  const signing = opts.signing ?? defaultSigning(target);
  /** Freezes and drift acknowledgements in AWS go through the approval URL, whose function records the verified signer. */
  const sendApprovalUrl = async (action: FreezeAction, who: string) => {
    if (!where.approvalUrl) throw new StackProblem(`stack ${where.stackName} has no ApprovalUrl output (its config has no policy.approvers): in AWS ${who}, through that URL`);
    const res = await sendSigned(where.approvalUrl, { ...action }, freezeBindingOf(action), signing, region);
    if (res.ok) return res;
    if (res.status === 400 || res.status === 403) throw new FreezeInputError(res.message);
    throw new Error(`the approval URL answered ${res.status}: ${res.message}`);
  };
  const sendFreeze = async (action: FreezeAction): Promise<LedgerFreeze> => ((await sendApprovalUrl(action, 'a freeze is declared by an approver')).body as { freeze: LedgerFreeze }).freeze;
  return {
    where: `stack ${where.stackName} (${region}): ledger ${where.ledgerTable}`,
    config: opts.config,
    ledger,
    executions: new SfnExecutions(clients.sfn),
    store: new S3Store(clients.s3),
    artifactsBucket: where.artifactsBucket,
    signing: { kind: 'stack', stack: where.stackName, region, cloudformation: clients.cloudformation, ...(clients.kms ? { kms: clients.kms } : {}) },
    // As the deployed judge picks its source (lambdas/adapters/aws/metrics.ts): CloudWatch for Lambda aliases.
    serving: () => serving,
    metrics: (target: TargetConfig): MetricsSource => {
      if (target.type === 'lambda-alias') return metrics;
      throw new Error(`canary metrics for "${target.type}" targets come from the local runtime; in AWS use "lambda-alias"`);
    },
    ...(where.approvalUrl ? { approvalUrl: where.approvalUrl } : {}),
    notices: [],
    now: () => new Date(),
    declareFreeze: async (flags) => {
      // Checked here first against the local config, for a fast answer; the function checks again against the deployed one.
      const f = parseFreeze(flags, opts.config, new Date(), 'the signer');
      return sendFreeze({ action: 'freeze', name: f.name, environments: f.environments, ...(f.service ? { service: f.service } : {}), until: f.until, reason: f.reason });
    },
    endFreeze: (name) => sendFreeze({ action: 'unfreeze', name }),
    acknowledgeDrift: async (flags) => {
      if (!flags.service || !flags.environment || !flags.reason?.trim()) throw new DriftAcknowledgeError('--service, --environment and --reason are required to acknowledge a drift, e.g. --service checkout --environment prod --reason "hotfix by hand during INC-7"');
      const action: FreezeAction = { action: 'acknowledge-drift', service: flags.service, environment: flags.environment, reason: flags.reason.trim() };
      const res = await sendApprovalUrl(action, 'a drift is acknowledged by an approver');
      return (res.body as { drift: DriftMark }).drift;
    },
    start: (machine, input, onEvent) => guard(`the ${machine} state machine of stack ${where.stackName}`, () => startExecution(clients.sfn, where, machine, input, onEvent, opts)),
    sendEvent: (event) => guard(`the event bus ${where.eventBusName}`, () => putEvent(clients.eventbridge, where, event)),
    close: async () => {
      for (const c of Object.values(clients)) c.destroy();
    },
  };
}

/** The region the clients resolved (from the environment or the profile), for messages and console links. */
async function resolvedRegion(cfn: CloudFormationClient, stack: string): Promise<string> {
  try {
    return await cfn.config.region();
  } catch (err) {
    throw describeAwsError(err, `stack ${stack}`, '(no region)');
  }
}

function defaultSigning(target: StackTarget): ApproveDeps {
  let provider: (() => Promise<{ accessKeyId: string; secretAccessKey: string; sessionToken?: string }>) | undefined;
  return {
    credentials: async () => {
      const { defaultProvider } = await import('@aws-sdk/credential-provider-node');
      provider ??= defaultProvider(target.profile ? { profile: target.profile } : {});
      return provider();
    },
    post: (url, init) => fetch(url, init),
    now: () => new Date(),
  };
}

const defaultName = (machine: MachineName) => `tagflow-cli-${machine}-${new Date().toISOString().replace(/[:.]/g, '-')}-${Math.random().toString(36).slice(2, 8)}`;

async function startExecution(sfn: SFNClient, where: StackLocations, machine: MachineName, input: unknown, onEvent: (e: ProgressEvent) => void, opts: StackBackendOptions): Promise<RunHandle> {
  const stateMachineArn = { release: where.releaseMachineArn, rollback: where.rollbackMachineArn, train: where.trainMachineArn }[machine];
  if (!stateMachineArn) throw new StackProblem(`stack ${where.stackName} has no ${machine} state machine (output ${machine === 'train' ? 'TrainStateMachineArn: its config has no trains' : 'RollbackStateMachineArn'})`);
  const name = (opts.executionName ?? defaultName)(machine, input);
  const res = await sfn.send(new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) }));
  const executionArn = res.executionArn!;
  return { executionArn, consoleUrl: consoleUrl(executionArn), done: followExecution(sfn, executionArn, machine, onEvent, opts.follow) };
}

/** The event as PutEvents takes it: what the stack's rules then match, in AWS. */
async function putEvent(eventbridge: EventBridgeClient, where: StackLocations, event: Record<string, unknown>): Promise<SentEvent> {
  const res = await eventbridge.send(
    new PutEventsCommand({
      Entries: [
        {
          EventBusName: where.eventBusName,
          Source: String(event.source),
          DetailType: String(event['detail-type']),
          Detail: JSON.stringify(event.detail ?? {}),
          ...(Array.isArray(event.resources) && event.resources.length ? { Resources: event.resources as string[] } : {}),
        },
      ],
    }),
  );
  const entry = res.Entries?.[0];
  if (res.FailedEntryCount || !entry?.EventId) throw new Error(`EventBridge refused the event: ${entry?.ErrorCode ?? 'unknown error'} ${entry?.ErrorMessage ?? ''}`.trim());
  return { kind: 'stack', eventId: entry.EventId, bus: where.eventBusName };
}
