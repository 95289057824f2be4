import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import { ArnFormat, Stack } from 'aws-cdk-lib';
import { PolicyStatement, type IGrantable } from 'aws-cdk-lib/aws-iam';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { IConstruct } from 'constructs';
import { REPORTS_PREFIX } from '../lambdas/lib/report/key.js';
import { DRIFT_DETECTED } from '../lambdas/lib/steps/detect-drift.js';
import type { StepName } from '../lambdas/steps.js';
import { grantPutEvents } from './event-grants.js';
import { acknowledgeWildcardResource } from './nag.js';
import { PUBLIC_KEY_ACTIONS, SIGN_ACTIONS } from './signing.js';
import { VERIFICATION_SUMMARY_FILE } from '../lambdas/lib/keys.js';

/**
 * What each step touches, read off its core in `lambdas/lib/steps/`. A `Record` over
 * `StepName`, so a new step does not type-check until someone decides its access.
 */
export type TargetUse = 'deploy' | 'stage' | 'shift' | 'invoke' | 'read';

export interface StepAccess {
  /**
   * The ledger table: every user of it reads and writes (decisions, records, locks); `drift`
   * only reads environment items and updates them (the drift mark: GetItem and UpdateItem on
   * the services' partitions).
   */
  ledger?: true | 'drift';
  /** Prefixes of the artifacts bucket it reads: `ci/` (test results), `builds/` (builds, manifests). */
  artifacts?: readonly ('ci/' | 'builds/')[];
  /** The environments bucket, under the configured environments' prefixes. */
  environments?: 'read' | 'read-write';
  /**
   * The config's lambda-alias targets (`lambda-alias-target.ts`, `lambda-invoker.ts`):
   * `deploy` publishes code and moves the alias, reading the promoted zip from the environments
   * bucket (Lambda fetches `S3Key` with the caller's permissions); `shift` only moves the
   * alias's weights (`setCanaryWeight`); `invoke` calls the alias for `invoke` smoke checks;
   * `stage` publishes a version as `deploy` does but cannot move the alias (pre-traffic checks).
   * A rollback does both `deploy` and `invoke`: it moves the alias back (to a published version,
   * or from the promoted copy), then smoke-tests. `read` only reads the alias (GetAlias), for
   * the drift check.
   */
  targets?: readonly TargetUse[];
  /**
   * CloudWatch metrics of the lambda-alias targets, for the canary judge (GetMetricData, which
   * supports no resource-level permissions). Granted only when the config has such targets.
   */
  metrics?: true;
  /**
   * The detail-types it puts on the pipeline bus itself, source `tagflow` (most events are put
   * by the state machine): the grant is conditioned on exactly these.
   */
  events?: readonly string[];
  /** Reads the pipeline config, which then ships in its code (`lambdas/adapters/aws/config.ts`). */
  config?: true;
  /** Reads the tags of the account's alarms in this region, for an alarm event that carries none (`cloudwatch-alarm-tags.ts`). */
  alarmTags?: true;
  /** Reads the signing key's public half (kms:GetPublicKey, once per warm function) to verify signed build manifests; never kms:Sign. */
  signingKey?: true;
  /** Invokes the config's migration functions (migrations-config.ts): lambda:InvokeFunction on those functions only. */
  migrations?: true;
  /** Reads ECR's vulnerability scans of the images releases name (`ecr-scan-findings.ts`): DescribeImageScanFindings on the config's repositories only. */
  imageScans?: true;
  /**
   * Signs verification summaries with the pipeline's verification key (kms:Sign and
   * kms:GetPublicKey on that key only) and writes them next to the promoted copies (PutObject
   * on each environment's `…/vsa.dsse.json` keys only): attest-environment, nothing else.
   */
  verification?: true;
  /** Writes release reports (`lambdas/lib/report/write.ts`): PutObject under the artifacts bucket's `reports/` prefix, nothing else there. */
  reports?: true;
}

export const STEP_ACCESS: Record<StepName, StepAccess> = {
  normalise: { config: true },
  // An alarm event without tags (AlarmTagsPropagation off): reads the alarm's tags.
  'normalise-rollback': { config: true, alarmTags: true },
  claim: { ledger: true },
  'tests-gate': { ledger: true, artifacts: ['ci/'] },
  // Verifies the manifest's signature with the signing key's public half (issue 17).
  'resolve-artifact': { ledger: true, artifacts: ['builds/'], signingKey: true },
  // Reads the build's provenance and SBOM beside its manifest (a signed provenance verifies with the signing key's public half); records the decision.
  'verify-provenance': { ledger: true, artifacts: ['builds/'], signingKey: true },
  // The vulnerability gate (issue 17): an image's ECR scan, or a zip build's SBOM (builds/); records its verdict.
  'vulnerability-gate': { ledger: true, artifacts: ['builds/'], imageScans: true },
  // Reads the policy from its config; records the decision. Reads build manifests and CI results when a newer line runs (hotfix order).
  'check-policy': { ledger: true, config: true, artifacts: ['ci/', 'builds/'] },
  // Stores the approval request (task token) in the ledger and puts `Approval Requested`.
  'request-approval': { ledger: true, events: ['Approval Requested'], config: true },
  // Re-reads the approval request after each wait and checks its approvers against the policy.
  'verify-approval': { ledger: true, config: true },
  'acquire-lock': { ledger: true },
  // Invokes the environments' migration functions; records irreversibleAfter on the environment.
  migrate: { ledger: true, migrations: true },
  // Re-verifies the promoted manifest copy's signature (issue 17).
  promote: { ledger: true, artifacts: ['builds/'], environments: 'read-write', signingKey: true },
  // Installs the new version without moving the alias (LambdaAliasTarget.stage), then invokes that version for the checks.
  'pre-traffic': { ledger: true, environments: 'read', targets: ['stage', 'invoke'] },
  deploy: { ledger: true, environments: 'read', targets: ['deploy'] },
  // Starts the canary (or deploys all at once when there is no baseline): new code from the promoted copy.
  'start-canary': { ledger: true, environments: 'read', targets: ['deploy'] },
  'judge-canary': { ledger: true, metrics: true },
  // Moves the alias' weights only (LambdaAliasTarget.setCanaryWeight: UpdateAlias).
  'shift-canary': { ledger: true, targets: ['shift'] },
  smoke: { ledger: true, targets: ['invoke'] },
  'record-stage': { ledger: true },
  // Signs the verification summary of a known-good environment and writes it beside the promoted copy (issue 17).
  'attest-environment': { ledger: true, verification: true },
  'rollback-stage': { ledger: true, environments: 'read', targets: ['deploy', 'invoke'] },
  'release-lock': { ledger: true },
  // Writes the release's report to reports/<service>/<version>.html in the artifacts bucket.
  // Writes the release report; reads the build manifests its release notes come from.
  'record-outcome': { ledger: true, reports: true, artifacts: ['builds/'] },
  // Reads the rollback target's build manifest once a migration ran: does it declare schemaCompat?
  'prepare-rollback': { ledger: true, artifacts: ['builds/'] },
  rollback: { ledger: true, environments: 'read', targets: ['deploy', 'invoke'] },
  // The train's conductor: reads the trains from its config and members' environments, records the train's decisions.
  train: { ledger: true, config: true },
  // The scheduled drift check: reads each environment's state and the targets' aliases, marks a drift on the environment, announces it.
  'detect-drift': { ledger: 'drift', config: true, targets: ['read'], events: [DRIFT_DETECTED] },
};

/** The ledger adapter's calls: GetItem, PutItem, UpdateItem (all conditional where it matters), Query. Never DeleteItem or Scan. */
export const LEDGER_ACTIONS = ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Query'];
/** The drift check's ledger calls (getEnvironment, markDrift): no PutItem, no Query. */
export const DRIFT_LEDGER_ACTIONS = ['dynamodb:GetItem', 'dynamodb:UpdateItem'];
/** LambdaAliasTarget: GetAlias, GetFunctionConfiguration (the live version's description), UpdateFunctionCode, GetFunction (the update waiter), PublishVersion, CreateAlias/UpdateAlias. */
export const DEPLOY_ACTIONS = [
  'lambda:GetAlias',
  'lambda:GetFunctionConfiguration',
  'lambda:UpdateFunctionCode',
  // A config-only release: the same code with new environment variables (lambda-config.ts).
  'lambda:UpdateFunctionConfiguration',
  'lambda:GetFunction',
  'lambda:PublishVersion',
  'lambda:CreateAlias',
  'lambda:UpdateAlias',
];
/** LambdaAliasTarget.stage: DEPLOY_ACTIONS but the alias's; a version it publishes takes no traffic. */
export const STAGE_ACTIONS = DEPLOY_ACTIONS.filter((a) => a !== 'lambda:CreateAlias' && a !== 'lambda:UpdateAlias');
/** LambdaAliasTarget.setCanaryWeight (and reuse): UpdateAlias, nothing else. */
export const SHIFT_ACTIONS = ['lambda:UpdateAlias'];
/** Deploying an image-packaged function: the caller must be able to pull the image it names. */
export const IMAGE_ACTIONS = ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'];
/** The canary judge reads the targets' per-version metrics (CloudWatchMetrics: GetMetricData only). */
export const METRICS_ACTIONS = ['cloudwatch:GetMetricData'];
/** The source of every event tagflow puts. */
export const EVENT_SOURCE = 'tagflow';
/** normalise-rollback reads an alarm's tags when its event carries none (CloudWatchAlarmTags). */
export const ALARM_TAG_ACTIONS = ['cloudwatch:ListTagsForResource'];
/** EcrScanFindings (the vulnerability gate): DescribeImageScanFindings, nothing else. */
export const IMAGE_SCAN_ACTIONS = ['ecr:DescribeImageScanFindings'];
/** LambdaAliasServing (the drift check): GetAlias, nothing else. */
export const READ_ACTIONS = ['lambda:GetAlias'];
/** LambdaInvoker: Invoke on the alias. */
export const INVOKE_ACTIONS = ['lambda:InvokeFunction'];

/** The Lambda actions on the targets for these uses, without repeats. */
export function targetActions(uses: readonly TargetUse[]): string[] {
  const actions = [...(uses.includes('deploy') ? DEPLOY_ACTIONS : []), ...(uses.includes('stage') ? STAGE_ACTIONS : []), ...(uses.includes('shift') ? SHIFT_ACTIONS : []), ...(uses.includes('invoke') ? INVOKE_ACTIONS : []), ...(uses.includes('read') ? READ_ACTIONS : [])];
  return [...new Set(actions)];
}

export interface AccessResources {
  table: ITable;
  artifacts: IBucket;
  environments: IBucket;
  /** Names of every environment in the config: the environments bucket's top-level prefixes. */
  environmentNames: readonly string[];
  /** Unqualified ARNs of the config's lambda-alias target functions (may be empty). */
  targetFunctionArns: readonly string[];
  /** ARNs of the ECR repositories image-packaged targets deploy from (may be empty). */
  imageRepositoryArns: readonly string[];
  /** ARNs of the ECR repositories the vulnerability gate reads scans of: the services' ECR triggers and image targets (may be empty). */
  scanRepositoryArns?: readonly string[];
  /** The pipeline bus. */
  bus: IEventBus;
  /** The KMS key CI signs build manifests with (infra/signing.ts). */
  signingKeyArn?: string;
  /** The KMS key the pipeline signs verification summaries with (infra/signing.ts). */
  verificationKeyArn?: string;
  /** Unqualified ARNs of the config's migration functions (may be empty). */
  migrationFunctionArns?: readonly string[];
}

/**
 * Grants one step what `STEP_ACCESS` says, as explicit statements scoped to prefixes and
 * functions (the CDK's `grantRead`/`grantWrite` would add `s3:List*`, `s3:GetBucket*`,
 * `s3:DeleteObject*` and whole buckets). `policyOwner` is where the resulting findings of
 * cdk-nag are acknowledged (the role).
 */
export function grantStepAccess(grantee: IGrantable, policyOwner: IConstruct, access: StepAccess, res: AccessResources): void {
  const add = (statement: PolicyStatement) => grantee.grantPrincipal.addToPrincipalPolicy(statement);

  if (access.ledger === true) add(new PolicyStatement({ actions: LEDGER_ACTIONS, resources: [res.table.tableArn] }));
  if (access.ledger === 'drift') {
    add(new PolicyStatement({ actions: DRIFT_LEDGER_ACTIONS, resources: [res.table.tableArn], conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['SVC#*'] } } }));
  }
  if (access.events?.length) grantPutEvents(grantee, res.bus, { sources: [EVENT_SOURCE], detailTypes: access.events });

  // s3:ListBucket on the bucket makes a missing key answer 404 (NoSuchKey), which the store
  // reads as "not there yet"; without it S3 answers 403 and "tests pending" becomes a failure.
  const readable: { bucket: IBucket; prefixes: string[]; logical: string }[] = [];
  if (access.artifacts?.length) readable.push({ bucket: res.artifacts, prefixes: [...access.artifacts], logical: 'artifacts' });
  if (access.environments) readable.push({ bucket: res.environments, prefixes: res.environmentNames.map((e) => `${e}/`), logical: 'environments' });
  for (const { bucket, prefixes, logical } of readable) {
    add(new PolicyStatement({ actions: ['s3:ListBucket'], resources: [bucket.bucketArn] }));
    add(new PolicyStatement({ actions: ['s3:GetObject'], resources: prefixes.map((p) => bucket.arnForObjects(`${p}*`)) }));
    for (const p of prefixes) {
      acknowledgeWildcardResource(policyOwner, bucket.arnForObjects(`${p}*`), `Objects under the ${logical} bucket's "${p}" prefix only: keys name a service, version, commit or file known only at run time.`);
    }
  }
  if (access.environments === 'read-write') {
    add(new PolicyStatement({ actions: ['s3:PutObject'], resources: res.environmentNames.map((e) => res.environments.arnForObjects(`${e}/*`)) }));
  }

  if (access.reports) {
    const reports = res.artifacts.arnForObjects(`${REPORTS_PREFIX}*`);
    add(new PolicyStatement({ actions: ['s3:PutObject'], resources: [reports] }));
    acknowledgeWildcardResource(policyOwner, reports, `Writes release reports only, under the artifacts bucket's "${REPORTS_PREFIX}" prefix: keys name a service and version known only at run time.`);
  }

  if (access.targets?.length && res.targetFunctionArns.length) {
    add(
      new PolicyStatement({
        actions: targetActions(access.targets),
        resources: res.targetFunctionArns.flatMap((arn) => [arn, `${arn}:*`]),
      }),
    );
    for (const arn of res.targetFunctionArns) {
      acknowledgeWildcardResource(policyOwner, `${arn}:*`, 'The alias and the numbered versions of this one deploy-target function (from the pipeline config); version numbers are assigned at deploy time.');
    }
  }

  // UpdateFunctionCode with an ImageUri needs the caller to read that image. The steps that
  // update code are the deploying and staging ones that read the promoted copy (shift-canary moves weights only).
  if ((access.targets?.includes('deploy') || access.targets?.includes('stage')) && access.environments && res.imageRepositoryArns.length) {
    add(new PolicyStatement({ actions: IMAGE_ACTIONS, resources: [...res.imageRepositoryArns] }));
  }

  if (access.imageScans && res.scanRepositoryArns?.length) {
    add(new PolicyStatement({ actions: IMAGE_SCAN_ACTIONS, resources: [...res.scanRepositoryArns] }));
  }

  if (access.metrics && res.targetFunctionArns.length) {
    add(new PolicyStatement({ actions: METRICS_ACTIONS, resources: ['*'] }));
    // One finding per policy for `*`: this reason replaces the X-Ray one the role already has.
    acknowledgeWildcardResource(
      policyOwner,
      '*',
      'Actions with no resource-level permissions: X-Ray tracing (xray:PutTraceSegments, PutTelemetryRecords) and, read-only for the canary judge, cloudwatch:GetMetricData.',
    );
  }

  if (access.migrations && res.migrationFunctionArns?.length) {
    add(new PolicyStatement({ actions: INVOKE_ACTIONS, resources: res.migrationFunctionArns.flatMap((arn) => [arn, `${arn}:*`]) }));
    for (const arn of res.migrationFunctionArns) acknowledgeWildcardResource(policyOwner, `${arn}:*`, 'The versions of this one migration function (from the pipeline config).');
  }

  if (access.signingKey && res.signingKeyArn) add(new PolicyStatement({ actions: PUBLIC_KEY_ACTIONS, resources: [res.signingKeyArn] }));

  if (access.verification && res.verificationKeyArn) {
    add(new PolicyStatement({ actions: SIGN_ACTIONS, resources: [res.verificationKeyArn] }));
    const summaries = res.environmentNames.map((e) => res.environments.arnForObjects(`${e}/*/${VERIFICATION_SUMMARY_FILE}`));
    add(new PolicyStatement({ actions: ['s3:PutObject'], resources: summaries }));
    for (const arn of summaries) acknowledgeWildcardResource(policyOwner, arn, 'Verification summaries only, one beside each promoted copy: the service and version are known only at run time.');
  }

  if (access.alarmTags) {
    // Any alarm of this account and region: the event that needs the lookup names it.
    const alarms = Stack.of(policyOwner).formatArn({ service: 'cloudwatch', resource: 'alarm', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    add(new PolicyStatement({ actions: ALARM_TAG_ACTIONS, resources: [alarms] }));
    acknowledgeWildcardResource(policyOwner, alarms, 'Reads the tags (only) of the alarm whose event started the rollback machine; which alarm is known only from that event.');
  }
}
