import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ArnFormat, CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import type { Construct } from 'constructs';
import type { PipelineConfig } from '../lambdas/lib/config.js';
import type { EventRule } from '../lambdas/lib/event-rules.js';
import { placeholderOf, STEP_NAMES, type StepName } from '../lambdas/steps.js';
import { ReleaseTrains } from './train.js';
import { ApprovalFunction } from './approvals.js';
import { readAslFacts } from './asl.js';
import { AslStateMachine } from './asl-state-machine.js';
import { CiUploader } from './ci-uploader.js';
import { CliAccess } from './cli-access.js';
import { migrationFunctionArns, targetFunctionArns, targetImageRepositoryArns } from './deploy-targets.js';
import { Ledger } from './ledger.js';
import { Monitoring } from './monitoring.js';
import { acknowledgeWildcardResource } from './nag.js';
import { grantStepAccess, STEP_ACCESS } from './step-access.js';
import { scanRepositoryArns } from './scan-repositories.js';
import { StepFunction } from './step-function.js';
import { shippedConfigFile } from './shipped-config.js';
import { SigningKey, VerificationKey } from './signing.js';
import { Storage } from './storage.js';
import { pipelineBus, Triggers } from './triggers.js';
import { Reconciler } from './reconciler.js';
import { DriftCheck, driftCheckMinutes } from './drift.js';
import { ReleaseNotifications, slackChannelFrom } from './notifications.js';
import { GithubWebhook } from './webhook.js';

export interface TagflowStackProps extends StackProps {
  /** The repository root: `lambdas/`, `state-machines/`, `package-lock.json`. */
  projectRoot: string;
  /** The validated pipeline config: for IAM scoping (environments, deploy targets), and shipped in the code of the functions that read it. */
  config: PipelineConfig;
  /** The rules that start the machines (`eventRules(config)`). */
  eventRules: readonly EventRule[];
  /** Put the pipeline's events on the account's default bus instead of a dedicated one. @default false */
  useDefaultBus?: boolean;
  /** The dedicated bus's name: one per stack, so two stacks can share an account and region. @default the stack name */
  eventBusName?: string;
  /** How long an environment lock outlives a crashed execution. @default 30 minutes */
  lockTtl?: Duration;
  /** Subscribed by email to the topic every pipeline alarm notifies. */
  alertEmail?: string;
}

/** `Deploy`, `TestsGate`: the construct id part of a step. */
const idOf = (step: string) => placeholderOf(step).replace(/FnArn$/, '');

/**
 * The whole pipeline in one stack: storage, the ledger, one function per step, the release
 * (and rollback) state machines from their ASL files, the rules that start them, and alarms.
 * The GitHub webhook receiver turns a signed tag push into a `Tag Pushed` event on the
 * pipeline bus, where the `tag-pushed` rule starts the release machine.
 */
export class TagflowStack extends Stack {
  readonly storage: Storage;
  readonly ledger: Ledger;
  /** The bus the machines put their events on and `tagflow` rules listen to. */
  readonly bus: IEventBus;
  readonly functions = new Map<StepName, StepFunction>();
  readonly release: AslStateMachine;
  readonly rollback: AslStateMachine | undefined;
  /** The release-train machine, when the config has trains. */
  readonly trains: ReleaseTrains | undefined;
  readonly triggers: Triggers;
  readonly reconciler: Reconciler;
  /** The scheduled drift check; undefined with context driftCheckMinutes=0. */
  readonly driftCheck: DriftCheck | undefined;
  readonly monitoring: Monitoring;
  readonly webhook: GithubWebhook;
  readonly approvals: ApprovalFunction;
  readonly ciUploader: CiUploader;
  readonly cliAccess: CliAccess;
  /** The key CI signs build manifests with (issue 17). */
  readonly signing: SigningKey;
  /** The key the pipeline signs verification summaries with; kms:Sign for attest-environment only. */
  readonly verification: VerificationKey;

  constructor(scope: Construct, id: string, props: TagflowStackProps) {
    super(scope, id, props);
    const configFile = shippedConfigFile(props.config);
    this.storage = new Storage(this, 'Storage');
    this.ledger = new Ledger(this, 'Ledger');
    const { bus, defaultBus } = pipelineBus(this, { useDefaultBus: props.useDefaultBus ?? false, busName: props.eventBusName ?? this.stackName });
    this.bus = bus;

    const files = {
      release: join(props.projectRoot, 'state-machines', 'release.asl.json'),
      rollback: join(props.projectRoot, 'state-machines', 'rollback.asl.json'),
      train: join(props.projectRoot, 'state-machines', 'train.asl.json'),
    };
    const hasRollback = existsSync(files.rollback);
    // The train machine only when the config has trains to run.
    const hasTrains = Object.keys(props.config.trains ?? {}).length > 0 && existsSync(files.train);
    // Each function's timeout is the shortest Task timeout that calls it in either machine.
    const taskTimeouts = [files.release, ...(hasRollback ? [files.rollback] : []), ...(hasTrains ? [files.train] : [])].map((f) => readAslFacts(f).taskTimeouts);

    const environment = {
      LEDGER_TABLE: this.ledger.table.tableName,
      ARTIFACTS_BUCKET: this.storage.artifacts.bucketName,
      ENVIRONMENTS_BUCKET: this.storage.environments.bucketName,
      LOCK_TTL_MS: String((props.lockTtl ?? Duration.minutes(30)).toMilliseconds()),
    };
    // Before the steps: resolve-artifact, verify-provenance and promote verify with its public half.
    this.signing = new SigningKey(this, 'Signing');
    const signingKeyArn = this.signing.key.keyArn;
    this.verification = new VerificationKey(this, 'Verification');
    const verificationKeyArn = this.verification.key.keyArn;
    // Before the steps: the step that requests approvals names this URL in its event.
    this.approvals = new ApprovalFunction(this, 'Approvals', { projectRoot: props.projectRoot, table: this.ledger.table, configFile });
    /** What some steps need beyond the common environment. */
    const extraEnvironment: Partial<Record<StepName, Record<string, string>>> = {
      'request-approval': { EVENT_BUS_NAME: bus.eventBusName, APPROVAL_URL: this.approvals.url.url },
      'detect-drift': { EVENT_BUS_NAME: bus.eventBusName },
      'resolve-artifact': { SIGNING_KEY_ARN: signingKeyArn },
      'verify-provenance': { SIGNING_KEY_ARN: signingKeyArn },
      promote: { SIGNING_KEY_ARN: signingKeyArn },
      'attest-environment': { VERIFICATION_KEY_ARN: verificationKeyArn },
    };
    const access = {
      bus,
      table: this.ledger.table,
      artifacts: this.storage.artifacts,
      environments: this.storage.environments,
      environmentNames: [...new Set(Object.values(props.config.services).flatMap((s) => s.environments.map((e) => e.name)))].sort(),
      targetFunctionArns: targetFunctionArns(this, props.config),
      imageRepositoryArns: targetImageRepositoryArns(this, props.config),
      scanRepositoryArns: scanRepositoryArns(this, props.config),
      signingKeyArn,
      verificationKeyArn,
      migrationFunctionArns: migrationFunctionArns(this, props.config),
    };
    const byPlaceholder = new Map<string, IFunction>();
    for (const step of STEP_NAMES) {
      const seconds = Math.min(900, ...taskTimeouts.map((t) => t.get(placeholderOf(step)) ?? Infinity));
      const fn = new StepFunction(this, `${idOf(step)}Fn`, {
        step,
        projectRoot: props.projectRoot,
        timeout: Duration.seconds(Number.isFinite(seconds) ? seconds : 30),
        environment: { ...environment, ...extraEnvironment[step] },
        ...(STEP_ACCESS[step].config ? { configFile } : {}),
      });
      grantStepAccess(fn, fn.role!, STEP_ACCESS[step], access);
      this.functions.set(step, fn);
      byPlaceholder.set(placeholderOf(step), fn);
    }

    this.release = new AslStateMachine(this, 'Release', { file: files.release, functions: byPlaceholder, eventBus: bus });
    this.approvals.answerTasksOf(this.release.machine);
    this.rollback = hasRollback ? new AslStateMachine(this, 'Rollback', { file: files.rollback, functions: byPlaceholder, eventBus: bus }) : undefined;
    if (this.rollback?.facts.integrations.has('arn:aws:states:::aws-sdk:sfn:stopExecution')) {
      // A rollback stops a release still shifting traffic in the same environment: only
      // executions of this stack's release machine.
      const executions = this.formatArn({ service: 'states', resource: 'execution', resourceName: `${this.release.machine.stateMachineName}:*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
      this.rollback.machine.addToRolePolicy(new PolicyStatement({ actions: ['states:StopExecution'], resources: [executions] }));
      acknowledgeWildcardResource(this.rollback.machine.role, executions, 'Any execution of this stack\'s release machine: which one to stop is known only when the rollback runs.');
    }

    this.trains = hasTrains ? new ReleaseTrains(this, 'Trains', { file: files.train, functions: byPlaceholder, eventBus: bus, release: this.release.machine }) : undefined;

    const machines = { release: this.release.machine, ...(this.rollback ? { rollback: this.rollback.machine } : {}) };
    // An execution that ends without its own Catch (stopped, timed out, States.Runtime) is reconciled.
    this.reconciler = new Reconciler(this, 'Reconciler', { projectRoot: props.projectRoot, machines: Object.values(machines), access, environment });
    this.triggers = new Triggers(this, 'Triggers', { pipelineBus: bus, defaultBus, rules: props.eventRules, machines, functionRules: [this.reconciler.target] });
    // EventBridge invokes the reconciler asynchronously: an event it still fails on after Lambda's
    // retries lands in the triggers' dead-letter queue (alarmed) instead of vanishing.
    this.reconciler.fn.configureAsyncInvoke({ retryAttempts: 2, onFailure: new SqsDestination(this.triggers.deadLetterQueue) });
    const driftMinutes = driftCheckMinutes((key) => this.node.tryGetContext(key));
    this.driftCheck = driftMinutes > 0 ? new DriftCheck(this, 'DriftCheck', { fn: this.functions.get('detect-drift')!, minutes: driftMinutes, deadLetterQueue: this.triggers.deadLetterQueue }) : undefined;
    this.webhook = new GithubWebhook(this, 'GithubWebhook', { projectRoot: props.projectRoot, bus, configFile, table: this.ledger.table });
    this.monitoring = new Monitoring(this, 'Monitoring', {
      machines,
      functions: this.functions,
      endpoints: new Map([['github-webhook', this.webhook.fn], ['decide-approval', this.approvals.fn]]),
      background: new Map([['reconcile', this.reconciler.fn]]),
      deadLetterQueue: this.triggers.deadLetterQueue,
      ...(props.alertEmail !== undefined ? { alertEmail: props.alertEmail } : {}),
    });
    this.ciUploader = new CiUploader(this, 'CiUploader', { artifacts: this.storage.artifacts, signingKey: this.signing });
    // One line per release event on the ReleaseNotifications topic; Slack with -c slackWorkspaceId=… -c slackChannelId=….
    const slack = slackChannelFrom((key) => this.node.tryGetContext(key));
    new ReleaseNotifications(this, 'ReleaseNotifications', { bus, ...(slack ? { slack } : {}) });
    this.cliAccess = new CliAccess(this, 'CliAccess', { table: this.ledger.table, bus, machines: [...Object.values(machines), ...(this.trains ? [this.trains.train.machine] : [])], rules: props.eventRules });

    new CfnOutput(this, 'ArtifactsBucketName', { value: this.storage.artifacts.bucketName, description: 'CI uploads builds/<service>/<version>/ and ci/<service>/<commit>.json here' });
    new CfnOutput(this, 'EnvironmentsBucketName', { value: this.storage.environments.bucketName, description: 'Promoted copies, under <environment>/<service>/<version>/' });
    new CfnOutput(this, 'AccessLogsBucketName', { value: this.storage.accessLogs.bucketName });
    new CfnOutput(this, 'LedgerTableName', { value: this.ledger.table.tableName });
    new CfnOutput(this, 'ReleaseStateMachineArn', { value: this.release.machine.stateMachineArn });
    if (this.rollback) new CfnOutput(this, 'RollbackStateMachineArn', { value: this.rollback.machine.stateMachineArn });
    if (this.trains) new CfnOutput(this, 'TrainStateMachineArn', { value: this.trains.train.machine.stateMachineArn, description: 'Start {"train":"NAME","version":"vX.Y.Z"} here' });
    new CfnOutput(this, 'EventBusName', { value: bus.eventBusName, description: 'Put "Tag Pushed" events (source tagflow) here' });
    new CfnOutput(this, 'TriggerDeadLetterQueueUrl', { value: this.triggers.deadLetterQueue.queueUrl });
  }
}
