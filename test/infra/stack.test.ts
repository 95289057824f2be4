import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { eventRules, type EventRule } from '../../lambdas/lib/event-rules.js';
import { NOTIFICATIONS } from '../../lambdas/lib/notifications.js';
import { placeholderOf, STEP_NAMES } from '../../lambdas/steps.js';
import { buildApp, loadPipelineConfig, PROJECT_ROOT } from '../../infra/app.js';
import { placeholdersIn, readAslFacts } from '../../infra/asl.js';
import { AslStateMachine } from '../../infra/asl-state-machine.js';
import type { TagflowStack } from '../../infra/stack.js';
import { busFor, toCdkPattern } from '../../infra/triggers.js';
import { list, flat, type Json, type Statement } from '../support/template.js';

/**
 * The deployable stack, synthesised without bundling (`aws:cdk:bundling-stacks: []`):
 * test/infra/bundles.test.ts bundles every handler once instead.
 */

const NO_BUNDLING = { 'aws:cdk:bundling-stacks': [] };
const fixture = (name: string) => join(PROJECT_ROOT, 'test', 'infra', 'fixtures', name);
const LAMBDA_TARGETS = fixture('lambda-targets.config.json');
/** The rules the stack deploys for that config. */
const EVENT_RULES = eventRules(loadPipelineConfig(LAMBDA_TARGETS).config);
const ASL = {
  release: join(PROJECT_ROOT, 'state-machines', 'release.asl.json'),
  rollback: join(PROJECT_ROOT, 'state-machines', 'rollback.asl.json'),
};



let app: App;
let stack: TagflowStack;
let template: Template;
let synthError: unknown;
let resources: Record<string, Json>;

const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
const fnId = (step: string) => {
  const found = ofType('AWS::Lambda::Function').find(([, r]) => r.Properties.Description === `tagflow step ${step}`);
  if (!found) throw new Error(`no function for step ${step}`);
  return found[0];
};
/** Every statement of the policies attached to a function's role. */
function statementsOf(step: string): Statement[] {
  const roleId = resources[fnId(step)]!.Properties.Role['Fn::GetAtt'][0];
  return ofType('AWS::IAM::Policy')
    .filter(([, p]) => p.Properties.Roles.some((r: Json) => r.Ref === roleId))
    .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as Statement[]);
}
const actionsOf = (statements: Statement[]) => statements.flatMap((s) => list(s.Action));
const resourcesFor = (statements: Statement[], action: string) =>
  statements.filter((s) => list(s.Action).includes(action)).flatMap((s) => list(s.Resource).map(flat)).sort();

beforeAll(() => {
  app = new App({ context: { ...NO_BUNDLING, config: LAMBDA_TARGETS } });
  stack = buildApp(app);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  try {
    app.synth(); // runs cdk-nag; throws with the report on any unacknowledged finding
  } catch (err) {
    synthError = err;
  }
  template = Template.fromStack(stack);
  resources = template.toJSON().Resources;
});

describe('cdk-nag AwsSolutions', () => {
  it('has no unacknowledged findings', () => {
    expect(synthError).toBeUndefined();
    const report = JSON.parse(readFileSync(join(app.outdir, 'validation-report.json'), 'utf8')) as { pluginReports: { violations?: unknown[] }[] };
    expect(report.pluginReports.flatMap((r) => r.violations ?? [])).toEqual([]);
  });

  it('gives every acknowledgment a written reason', () => {
    const acks = app.node
      .findAll()
      .flatMap((c) => c.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY))
      .flatMap((m) => Object.entries(m.data as Record<string, string>));
    expect(acks.length).toBeGreaterThan(0);
    for (const [id, reason] of acks) {
      expect(id).toMatch(/AwsSolutions-(IAM5|L1|S1|SQS3|SMG4)/);
      expect(reason.length, id).toBeGreaterThan(40);
    }
  });
});

describe('buckets', () => {
  it('are encrypted, private, retained; artifacts and environments are versioned, expire old versions, and log access', () => {
    const buckets = ofType('AWS::S3::Bucket');
    expect(buckets).toHaveLength(3);
    const logsId = flat(stack.resolve(stack.storage.accessLogs.bucketName)).slice(1, -1);
    for (const [id, b] of buckets) {
      expect(b.DeletionPolicy, id).toBe('Retain');
      expect(b.UpdateReplacePolicy, id).toBe('Retain');
      expect(b.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm).toBe('AES256');
      expect(b.Properties.PublicAccessBlockConfiguration).toEqual({ BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
      if (id === logsId) continue;
      expect(b.Properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
      expect(b.Properties.LoggingConfiguration.DestinationBucketName).toEqual({ Ref: logsId });
      const rule = b.Properties.LifecycleConfiguration.Rules.find((r: Json) => r.NoncurrentVersionExpiration);
      expect(rule.NoncurrentVersionExpiration.NoncurrentDays).toBeGreaterThan(0);
    }
  });

  it('each deny requests without TLS', () => {
    const policies = ofType('AWS::S3::BucketPolicy');
    const guarded = policies
      .filter(([, p]) =>
        (p.Properties.PolicyDocument.Statement as Statement[]).some(
          (s) => s.Effect === 'Deny' && list(s.Action).includes('s3:*') && s.Condition?.Bool?.['aws:SecureTransport'] === 'false',
        ),
      )
      .map(([, p]) => p.Properties.Bucket.Ref);
    expect(guarded.sort()).toEqual(ofType('AWS::S3::Bucket').map(([id]) => id).sort());
  });
});

describe('ledger table', () => {
  it('has string keys pk/sk, on-demand billing, PITR, deletion protection, is retained, and has no TTL', () => {
    const tables = ofType('AWS::DynamoDB::Table');
    expect(tables).toHaveLength(1);
    const [, t] = tables[0]!;
    expect(t.DeletionPolicy).toBe('Retain');
    expect(t.Properties.KeySchema).toEqual([
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ]);
    expect(t.Properties.AttributeDefinitions).toEqual([
      { AttributeName: 'pk', AttributeType: 'S' },
      { AttributeName: 'sk', AttributeType: 'S' },
    ]);
    expect(t.Properties.BillingMode).toBe('PAY_PER_REQUEST');
    expect(t.Properties.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    expect(t.Properties.DeletionProtectionEnabled).toBe(true);
    expect(t.Properties.TimeToLiveSpecification).toBeUndefined();
  });
});

describe('functions', () => {
  it('one per step: nodejs22.x on arm64, 512 MB, traced, own log group, the four environment variables', () => {
    // One per step, plus the GitHub webhook receiver, the approval function and the reconciler.
    expect(ofType('AWS::Lambda::Function')).toHaveLength(STEP_NAMES.length + 3);
    for (const step of STEP_NAMES) {
      const p = resources[fnId(step)]!.Properties;
      expect(p.Runtime, step).toBe('nodejs22.x');
      expect(p.Architectures, step).toEqual(['arm64']);
      expect(p.MemorySize, step).toBe(512);
      expect(p.TracingConfig, step).toEqual({ Mode: 'Active' });
      expect(p.Handler, step).toBe('index.handler');
      expect(p.LoggingConfig.LogGroup, step).toHaveProperty('Ref');
      const env = p.Environment.Variables;
      // The step that requests approvals also puts its event and names the approval URL in it.
      // The drift check puts `Drift Detected`.
      // The steps that verify signed manifests name the signing key (issue 17).
      // The step that signs verification summaries names the verification key.
      const extra =
        step === 'request-approval' ? ['APPROVAL_URL', 'EVENT_BUS_NAME'] : step === 'detect-drift' ? ['EVENT_BUS_NAME'] : step === 'resolve-artifact' || step === 'verify-provenance' || step === 'promote' ? ['SIGNING_KEY_ARN'] : step === 'attest-environment' ? ['VERIFICATION_KEY_ARN'] : [];
      expect(Object.keys(env).sort(), step).toEqual(['ARTIFACTS_BUCKET', 'ENVIRONMENTS_BUCKET', 'LEDGER_TABLE', 'LOCK_TTL_MS', 'NODE_OPTIONS', ...extra].sort());
      expect(env.NODE_OPTIONS).toBe('--enable-source-maps');
      expect(Number(env.LOCK_TTL_MS)).toBe(30 * 60_000);
    }
  });

  it('ship the config file in the code of exactly the functions that read it', () => {
    // Their handlers import the config adapter; bundles.test.ts shows the copy landing in the asset.
    const readsConfig = (handler: string) => readFileSync(join(PROJECT_ROOT, 'lambdas', handler, 'handler.ts'), 'utf8').includes("from '../adapters/aws/config.js'");
    const functions = [...stack.functions.values(), stack.webhook.fn, stack.approvals.fn];
    expect(functions.filter((fn) => readsConfig(fn.step)).map((fn) => fn.step).sort()).toEqual(['check-policy', 'decide-approval', 'detect-drift', 'github-webhook', 'normalise', 'normalise-rollback', 'request-approval', 'train', 'verify-approval']);
    // What they get: the validated config with its defaults, as JSON (infra/shipped-config.ts).
    const shipped = JSON.stringify(loadPipelineConfig(LAMBDA_TARGETS).config);
    for (const fn of functions) {
      if (readsConfig(fn.step)) expect(readFileSync(fn.configFile!, 'utf8'), fn.step).toBe(shipped);
      else expect(fn.configFile, fn.step).toBeUndefined();
    }
  });

  it('time out with the shortest ASL Task that calls them', () => {
    const timeouts = [readAslFacts(ASL.release), readAslFacts(ASL.rollback)].map((f) => f.taskTimeouts);
    for (const step of STEP_NAMES) {
      const expected = Math.min(900, ...timeouts.map((t) => t.get(placeholderOf(step)) ?? Infinity));
      expect(resources[fnId(step)]!.Properties.Timeout, step).toBe(Number.isFinite(expected) ? expected : 30);
    }
    expect(resources[fnId('deploy')]!.Properties.Timeout).toBe(600);
  });
});

describe('state machines', () => {
  const machines = () => ofType('AWS::StepFunctions::StateMachine');

  it('log ALL without execution data, and are traced', () => {
    expect(machines()).toHaveLength(2);
    for (const [, m] of machines()) {
      expect(m.Properties.StateMachineType).toBe('STANDARD');
      expect(m.Properties.LoggingConfiguration).toMatchObject({ Level: 'ALL', IncludeExecutionData: false });
      expect(m.Properties.TracingConfiguration).toEqual({ Enabled: true });
    }
  });

  for (const name of ['release', 'rollback'] as const) {
    it(`${name}: substitutions cover exactly the placeholders in ${name}.asl.json, each with the right value`, () => {
      const construct = name === 'release' ? stack.release : stack.rollback!;
      const logicalId = stack.getLogicalId(construct.machine.node.defaultChild as never);
      const props = resources[logicalId]!.Properties;
      const text = readFileSync(ASL[name], 'utf8');
      const subs = props.DefinitionSubstitutions as Record<string, Json>;
      expect(Object.keys(subs).sort()).toEqual([...placeholdersIn(text)].sort());
      for (const [placeholder, value] of Object.entries(subs)) {
        if (placeholder === 'EventBusName') {
          expect(value).toEqual({ Ref: stack.getLogicalId(stack.bus.node.defaultChild as never) });
          continue;
        }
        const step = STEP_NAMES.find((s) => placeholderOf(s) === placeholder)!;
        expect(value).toEqual({ 'Fn::GetAtt': [fnId(step), 'Arn'] });
      }
      // The definition deployed is the file itself (an S3 asset in the assembly).
      const staged = readdirSync(app.outdir).find((f) => f === `asset.${props.DefinitionS3Location.Key}`);
      expect(staged).toBeDefined();
      expect(readFileSync(join(app.outdir, staged!), 'utf8')).toBe(text);
    });
  }

  it('may invoke only the functions their definition names, put events on the bus, and the rollback may stop release executions', () => {
    const roleStatements = (construct: AslStateMachine) => {
      const roleId = stack.getLogicalId(construct.machine.role.node.defaultChild as never);
      return ofType('AWS::IAM::Policy')
        .filter(([, p]) => p.Properties.Roles.some((r: Json) => r.Ref === roleId))
        .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as Statement[]);
    };
    for (const construct of [stack.release, stack.rollback!]) {
      const statements = roleStatements(construct);
      const expected = [...construct.facts.placeholders].filter((p) => p.endsWith('FnArn')).map((p) => `<${fnId(STEP_NAMES.find((s) => placeholderOf(s) === p)!)}.Arn>`);
      expect(resourcesFor(statements, 'lambda:InvokeFunction')).toEqual(expected.sort());
      expect(resourcesFor(statements, 'events:PutEvents')).toEqual([`<${stack.getLogicalId(stack.bus.node.defaultChild as never)}.Arn>`]);
    }
    const releaseId = stack.getLogicalId(stack.release.machine.node.defaultChild as never);
    expect(resourcesFor(roleStatements(stack.rollback!), 'states:StopExecution')).toEqual([
      `arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:<${releaseId}.Name>:*`,
    ]);
  });
});

describe('event rules', () => {
  it('one per EVENT_RULES entry, same pattern, AWS sources on the default bus, a DLQ and bounded retries', () => {
    // Beside these, the reconciler's execution-ended rule (test/infra/reconciler.test.ts).
    // The drift check's schedule has no pattern (test/infra/drift.test.ts).
    const rules = ofType('AWS::Events::Rule').filter(([id, r]) => !id.startsWith('ReleaseNotifications') && r.Properties.EventPattern !== undefined && !r.Properties.EventPattern.source?.includes('aws.states'));
    expect(rules).toHaveLength(EVENT_RULES.length);
    const busId = stack.getLogicalId(stack.bus.node.defaultChild as never);
    const queueId = stack.getLogicalId(stack.triggers.deadLetterQueue.node.defaultChild as never);
    for (const rule of EVENT_RULES) {
      const found = rules.find(([, r]) => r.Properties.Description === rule.description);
      expect(found, rule.name).toBeDefined();
      const p = found![1].Properties;
      expect(p.EventPattern).toEqual(rule.pattern);
      const aws = (rule.pattern.source as string[]).every((s) => s.startsWith('aws.'));
      expect(p.EventBusName).toEqual(aws ? 'default' : { Ref: busId });
      const machine = rule.machine === 'release' ? stack.release : stack.rollback!;
      expect(p.Targets).toHaveLength(1);
      expect(p.Targets[0].Arn).toEqual({ Ref: stack.getLogicalId(machine.machine.node.defaultChild as never) });
      expect(p.Targets[0].DeadLetterConfig).toEqual({ Arn: { 'Fn::GetAtt': [queueId, 'Arn'] } });
      expect(p.Targets[0].RetryPolicy).toEqual({ MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 7200 });
    }
  });

  it('the dead-letter queue is encrypted and TLS-only', () => {
    const [[, queue]] = ofType('AWS::SQS::Queue') as [[string, Json]];
    expect(queue.Properties.SqsManagedSseEnabled).toBe(true);
    const statements = ofType('AWS::SQS::QueuePolicy').flatMap(([, p]) => p.Properties.PolicyDocument.Statement as Statement[]);
    expect(statements.some((s) => s.Effect === 'Deny' && s.Condition?.Bool?.['aws:SecureTransport'] === 'false')).toBe(true);
  });

  it('AWS sources go to the default bus; a rule mixing sources or using an unsupported top-level field is refused', () => {
    const rule = (pattern: EventRule['pattern']): EventRule => ({ name: 'r', description: 'd', machine: 'release', pattern });
    expect(busFor(rule({ source: ['aws.ecr'] }))).toBe('default');
    expect(busFor(rule({ source: ['tagflow'] }))).toBe('pipeline');
    expect(() => busFor(rule({ source: ['aws.ecr', 'tagflow'] }))).toThrow(/split it in two/);
    expect(toCdkPattern(rule({ 'detail-type': ['X'], source: ['tagflow'] }))).toEqual({ detailType: ['X'], source: ['tagflow'] });
    expect(() => toCdkPattern(rule({ $or: [{ source: ['a'] }, { source: ['b'] }] }))).toThrow(/\$or/);
  });
});

describe('IAM', () => {
  const allStatements = () => [
    ...ofType('AWS::IAM::Policy').flatMap(([, p]) => p.Properties.PolicyDocument.Statement as Statement[]),
    ...ofType('AWS::IAM::Role').flatMap(([, r]) => (r.Properties.Policies ?? []).flatMap((p: Json) => p.PolicyDocument.Statement as Statement[])),
  ];
  const S3_WRITE = /^s3:(\*|Put|Delete|Create|Restore|Abort|Replicate|Update|Bypass|Object)/;
  const LAMBDA_WRITE = /^lambda:(\*|Update|Publish|Create|Delete|Put|Add|Remove|Invoke|Tag|Untag)/;

  it('grants no S3 or Lambda write action on resource *, and nothing deletes', () => {
    for (const s of allStatements().filter((st) => st.Effect === 'Allow')) {
      const actions = list(s.Action);
      if (list(s.Resource).some((r) => r === '*')) {
        expect(actions.filter((a) => S3_WRITE.test(a) || LAMBDA_WRITE.test(a)), JSON.stringify(s)).toEqual([]);
      }
      expect(actions.filter((a) => /^(s3:Delete|dynamodb:(DeleteItem|Scan|BatchWriteItem|\*))/.test(a))).toEqual([]);
    }
  });

  it('scopes each step to what it uses', () => {
    const table = `<${stack.getLogicalId(stack.ledger.table.node.defaultChild as never)}.Arn>`;
    const artifacts = `<${stack.getLogicalId(stack.storage.artifacts.node.defaultChild as never)}.Arn>`;
    const environments = `<${stack.getLogicalId(stack.storage.environments.node.defaultChild as never)}.Arn>`;
    const base = ['logs:CreateLogStream', 'logs:PutLogEvents', 'xray:PutTelemetryRecords', 'xray:PutTraceSegments'];

    expect(actionsOf(statementsOf('normalise')).sort()).toEqual(base);
    // It reads an alarm's tags when the alarm event carries none (test/infra/deploy-checks.test.ts).
    expect(actionsOf(statementsOf('normalise-rollback')).sort()).toEqual([...base, 'cloudwatch:ListTagsForResource'].sort());
    for (const step of ['claim', 'acquire-lock', 'release-lock', 'record-stage']) {
      expect(actionsOf(statementsOf(step)).filter((a) => !base.includes(a)).sort(), step).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem']);
      expect(resourcesFor(statementsOf(step), 'dynamodb:PutItem'), step).toEqual([table]);
    }
    // prepare-rollback also reads the target version's manifest (its schemaCompat, issue 16): builds/ only.
    expect(actionsOf(statementsOf('prepare-rollback')).filter((a) => !base.includes(a)).sort()).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem', 's3:GetObject', 's3:ListBucket']);
    expect(resourcesFor(statementsOf('prepare-rollback'), 's3:GetObject')).toEqual([`${artifacts}/builds/*`]);
    expect(resourcesFor(statementsOf('tests-gate'), 's3:GetObject')).toEqual([`${artifacts}/ci/*`]);
    expect(resourcesFor(statementsOf('resolve-artifact'), 's3:GetObject')).toEqual([`${artifacts}/builds/*`]);
    // The build's provenance and SBOM, beside its manifest: builds/ only.
    expect(resourcesFor(statementsOf('verify-provenance'), 's3:GetObject')).toEqual([`${artifacts}/builds/*`]);
    // The policy step reads the builds' manifests and CI results of a dot release and of newer lines (hotfix order), nothing else.
    expect(actionsOf(statementsOf('check-policy')).filter((a) => !base.includes(a)).sort()).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem', 's3:GetObject', 's3:ListBucket']);
    expect(resourcesFor(statementsOf('check-policy'), 's3:GetObject')).toEqual([`${artifacts}/builds/*`, `${artifacts}/ci/*`]);
    expect(resourcesFor(statementsOf('tests-gate'), 's3:ListBucket')).toEqual([artifacts]);
    const envPrefixes = ['dev', 'prod', 'qa', 'staging'].map((e) => `${environments}/${e}/*`);
    expect(resourcesFor(statementsOf('promote'), 's3:PutObject')).toEqual(envPrefixes);
    expect(resourcesFor(statementsOf('promote'), 's3:GetObject')).toEqual([`${artifacts}/builds/*`, ...envPrefixes].sort());
    // record-outcome writes the release report, under reports/ of the artifacts bucket only, and reads the build manifests its notes come from.
    expect(actionsOf(statementsOf('record-outcome')).filter((a) => !base.includes(a)).sort()).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem', 's3:GetObject', 's3:ListBucket', 's3:PutObject']);
    expect(resourcesFor(statementsOf('record-outcome'), 's3:PutObject')).toEqual([`${artifacts}/reports/*`]);
    expect(resourcesFor(statementsOf('record-outcome'), 's3:GetObject')).toEqual([`${artifacts}/builds/*`]);
    // attest-environment writes verification summaries beside the promoted copies, nothing else (test/infra/signing.test.ts).
    expect(resourcesFor(statementsOf('attest-environment'), 's3:PutObject')).toEqual(['dev', 'prod', 'qa', 'staging'].map((e) => `${environments}/${e}/*/vsa.dsse.json`));
    for (const step of STEP_NAMES.filter((s) => s !== 'promote' && s !== 'record-outcome' && s !== 'attest-environment')) {
      expect(resourcesFor(statementsOf(step), 's3:PutObject'), step).toEqual([]);
    }
    // The canary judge reads metrics (no resource-level permissions exist for GetMetricData); nothing else does.
    expect(actionsOf(statementsOf('judge-canary')).filter((a) => a.startsWith('cloudwatch:')).sort()).toEqual(['cloudwatch:GetMetricData']);
    expect(STEP_NAMES.filter((s) => actionsOf(statementsOf(s)).some((a) => a.startsWith('cloudwatch:')))).toEqual(['judge-canary', 'normalise-rollback']);
  });

  it('lets deploy, rollback-stage and rollback change, and smoke invoke, only the config\'s lambda-alias targets', () => {
    const fn = (name: string) => `arn:<AWS::Partition>:lambda:<AWS::Region>:<AWS::AccountId>:function:${name}`;
    // checkout-{environment} for dev and staging; prod names a full ARN; demo's {service}-{environment}.
    const targets = [fn('checkout-dev'), fn('checkout-staging'), 'arn:aws:lambda:eu-west-1:111122223333:function:checkout-live', fn('demo-dev'), fn('demo-qa')];
    const expected = targets.flatMap((a) => [a, `${a}:*`]).sort();
    const deploy = ['lambda:CreateAlias', 'lambda:GetAlias', 'lambda:GetFunction', 'lambda:GetFunctionConfiguration', 'lambda:PublishVersion', 'lambda:UpdateAlias', 'lambda:UpdateFunctionCode', 'lambda:UpdateFunctionConfiguration'];
    const lambdaActions = (step: string) => actionsOf(statementsOf(step)).filter((a) => a.startsWith('lambda:')).sort();
    expect(lambdaActions('deploy')).toEqual(deploy);
    expect(lambdaActions('start-canary')).toEqual(deploy);
    // Moving the canary's weight is UpdateAlias only (test/infra/least-privilege.test.ts).
    expect(lambdaActions('shift-canary')).toEqual(['lambda:UpdateAlias']);
    expect(lambdaActions('smoke')).toEqual(['lambda:InvokeFunction']);
    // Pre-traffic checks publish the new version and invoke it, but cannot move the alias (issue 15).
    expect(lambdaActions('pre-traffic')).toEqual([...deploy.filter((a) => !a.endsWith('Alias') || a === 'lambda:GetAlias'), 'lambda:InvokeFunction'].sort());
    // A rollback moves the alias back, then smoke-tests the version it restored.
    expect(lambdaActions('rollback-stage')).toEqual([...deploy, 'lambda:InvokeFunction'].sort());
    expect(lambdaActions('rollback')).toEqual([...deploy, 'lambda:InvokeFunction'].sort());
    for (const step of ['deploy', 'start-canary', 'shift-canary', 'rollback-stage', 'rollback', 'smoke', 'pre-traffic']) {
      for (const action of lambdaActions(step)) expect(resourcesFor(statementsOf(step), action), `${step} ${action}`).toEqual(expected);
    }
    // The drift check reads the aliases (GetAlias), nothing else (issue 16).
    expect(lambdaActions('detect-drift')).toEqual(['lambda:GetAlias']);
    expect(resourcesFor(statementsOf('detect-drift'), 'lambda:GetAlias')).toEqual(expected);
    for (const step of STEP_NAMES.filter((s) => !['deploy', 'start-canary', 'shift-canary', 'rollback-stage', 'rollback', 'smoke', 'pre-traffic', 'detect-drift'].includes(s))) {
      expect(actionsOf(statementsOf(step)).filter((a) => a.startsWith('lambda:')), step).toEqual([]);
    }
  });

  it('lets the steps that update code pull images only from the repository of the image-packaged target', () => {
    // prod of checkout is packaged as an image in 111122223333.dkr.ecr.eu-west-1.amazonaws.com/{service}.
    const repository = 'arn:<AWS::Partition>:ecr:eu-west-1:111122223333:repository/checkout';
    const updatesCode = ['deploy', 'start-canary', 'rollback-stage', 'rollback', 'pre-traffic'];
    for (const step of updatesCode) {
      expect(actionsOf(statementsOf(step)).filter((a) => a.startsWith('ecr:')).sort(), step).toEqual(['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer']);
      expect(resourcesFor(statementsOf(step), 'ecr:BatchGetImage'), step).toEqual([repository]);
    }
    // The vulnerability gate reads image scans, nothing else of ECR (test/infra/vulnerability-gate.test.ts).
    expect(actionsOf(statementsOf('vulnerability-gate')).filter((a) => a.startsWith('ecr:'))).toEqual(['ecr:DescribeImageScanFindings']);
    for (const step of STEP_NAMES.filter((s) => !updatesCode.includes(s) && s !== 'vulnerability-gate')) expect(actionsOf(statementsOf(step)).filter((a) => a.startsWith('ecr:')), step).toEqual([]);
  });
});

describe('GitHub webhook receiver', () => {
  it('is a function URL without AWS auth (the handler checks the HMAC), reading only its own secret and putting events only on the pipeline bus', () => {
    const id = fnId('github-webhook');
    const fn = resources[id]!.Properties;
    const urls = ofType('AWS::Lambda::Url').filter(([, u]) => u.Properties.TargetFunctionArn['Fn::GetAtt'][0] === id);
    expect(urls).toHaveLength(1);
    expect(urls[0]![1].Properties).toMatchObject({ AuthType: 'NONE', TargetFunctionArn: { 'Fn::GetAtt': [id, 'Arn'] } });
    expect(urls[0]![1].Properties.Cors).toBeUndefined();

    const [secretId, secret] = ofType('AWS::SecretsManager::Secret')[0]!;
    expect(secret.Properties.GenerateSecretString).toBeDefined();
    expect(secret.Properties.SecretString).toBeUndefined();
    expect(secret.DeletionPolicy).toBe('Retain');
    expect(fn.Environment.Variables.WEBHOOK_SECRET_ARN).toEqual({ Ref: secretId });
    expect(flat(fn.Environment.Variables.EVENT_BUS_NAME)).toMatch(/^<.*Bus.*>$|^tagflow$/);

    const statements = statementsOf('github-webhook').filter((st) => !list(st.Action).some((a) => a.startsWith('xray:') || a.startsWith('logs:')));
    const byAction = new Map(statements.flatMap((st) => list(st.Action).map((a) => [a, list(st.Resource).map(flat)] as const)));
    // The ledger only for delivery records (replay protection; test/infra/least-privilege.test.ts).
    expect([...byAction.keys()].sort()).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'events:PutEvents', 'secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue']);
    expect(byAction.get('secretsmanager:GetSecretValue')).toEqual([`<${secretId}>`]);
    expect(byAction.get('events:PutEvents')!.every((r) => /Bus|event-bus\/tagflow/.test(r))).toBe(true);
  });

  it('outputs the URL and the secret ARN, never the secret', () => {
    const outputs = template.toJSON().Outputs as Record<string, Json>;
    expect(outputs.GithubWebhookUrl).toBeDefined();
    expect(flat(outputs.GithubWebhookSecretArn!.Value)).toMatch(/^<GithubWebhookSecret/);
    expect(JSON.stringify(template.toJSON())).not.toMatch(/"SecretString"/);
  });
});

describe('emergency approvals', () => {
  const busArn = () => `<${stack.getLogicalId(stack.bus.node.defaultChild as never)}.Arn>`;

  it('the step that requests approvals reads and writes the ledger and puts events on the pipeline bus only', () => {
    const statements = statementsOf('request-approval');
    expect(actionsOf(statements).filter((a) => !a.startsWith('logs:') && !a.startsWith('xray:')).sort()).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem', 'events:PutEvents']);
    expect(resourcesFor(statements, 'events:PutEvents')).toEqual([busArn()]);
    const env = resources[fnId('request-approval')]!.Properties.Environment.Variables;
    expect(env.APPROVAL_URL).toEqual({ 'Fn::GetAtt': [stack.getLogicalId(stack.approvals.url.node.defaultChild as never), 'FunctionUrl'] });
    // And the drift check, for `Drift Detected` only (test/infra/least-privilege.test.ts).
    expect(STEP_NAMES.filter((s) => actionsOf(statementsOf(s)).includes('events:PutEvents'))).toEqual(['request-approval', 'detect-drift']);
  });

  it('decisions arrive through a function URL with AWS_IAM auth, and only its function may answer the release machine\'s tasks', () => {
    const id = fnId('decide-approval');
    const urls = ofType('AWS::Lambda::Url').filter(([, u]) => u.Properties.TargetFunctionArn['Fn::GetAtt'][0] === id);
    expect(urls).toHaveLength(1);
    expect(urls[0]![1].Properties.AuthType).toBe('AWS_IAM');
    const statements = statementsOf('decide-approval');
    const releaseId = stack.getLogicalId(stack.release.machine.node.defaultChild as never);
    expect(resourcesFor(statements, 'states:SendTaskSuccess')).toEqual([`<${releaseId}>`]);
    expect(resourcesFor(statements, 'states:SendTaskFailure')).toEqual([`<${releaseId}>`]);
    expect(actionsOf(statements).filter((a) => !a.startsWith('logs:') && !a.startsWith('xray:')).sort()).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem', 'states:SendTaskFailure', 'states:SendTaskSuccess']);
    // Nothing else may answer tasks.
    for (const step of STEP_NAMES) expect(actionsOf(statementsOf(step)).filter((a) => a.startsWith('states:SendTask')), step).toEqual([]);
    expect(Object.keys(resources[id]!.Properties.Environment.Variables).sort()).toEqual(['LEDGER_TABLE', 'NODE_OPTIONS']);
  });

  it('offers approvers a managed policy that invokes the function only through its IAM-authenticated URL', () => {
    const id = fnId('decide-approval');
    const [, policy] = ofType('AWS::IAM::ManagedPolicy').find(([id]) => id === stack.getLogicalId(stack.approvals.approvers.node.defaultChild as never))!;
    const statements = policy.Properties.PolicyDocument.Statement as Statement[];
    expect(statements).toEqual([
      expect.objectContaining({ Action: 'lambda:InvokeFunctionUrl', Resource: { 'Fn::GetAtt': [id, 'Arn'] }, Condition: { StringEquals: { 'lambda:FunctionUrlAuthType': 'AWS_IAM' } } }),
      expect.objectContaining({ Action: 'lambda:InvokeFunction', Resource: { 'Fn::GetAtt': [id, 'Arn'] }, Condition: { Bool: { 'lambda:InvokedViaFunctionUrl': 'true' } } }),
    ]);
    const outputs = template.toJSON().Outputs as Record<string, Json>;
    expect(outputs.ApprovalUrl).toBeDefined();
    expect(outputs.ApproversPolicyArn).toBeDefined();
  });
});

describe('alarms, dashboard, outputs', () => {
  it('alarm on failed executions, on each function\'s errors and on the dead-letter queue', () => {
    const alarms = ofType('AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);
    const by = (metric: string) => alarms.filter((a) => a.MetricName === metric);
    expect(by('ExecutionsFailed').map((a) => a.Namespace)).toEqual(['AWS/States', 'AWS/States']);
    // Each step, plus the GitHub webhook, the approval function and the reconciler.
    expect(by('Errors').filter((a) => a.Namespace === 'AWS/Lambda')).toHaveLength(STEP_NAMES.length + 3);
    expect(by('ApproximateNumberOfMessagesVisible')).toHaveLength(1);
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });

  it('outputs the bucket names, the table name and the state machine ARNs', () => {
    const outputs = Object.keys(template.toJSON().Outputs);
    expect(outputs).toEqual(expect.arrayContaining(['ArtifactsBucketName', 'EnvironmentsBucketName', 'LedgerTableName', 'ReleaseStateMachineArn', 'RollbackStateMachineArn']));
  });
});

describe('the app', () => {
  it('refuses a config with an unknown field, naming it', () => {
    const bad = new App({ context: { ...NO_BUNDLING, config: fixture('unknown-field.config.json') } });
    expect(() => buildApp(bad)).toThrow(/services\.checkout\.environmnets: unknown field; did you mean "environments"/);
  });

  it('refuses a config file that does not exist, saying how to set one', () => {
    const bad = new App({ context: { ...NO_BUNDLING, config: fixture('missing.json') } });
    expect(() => buildApp(bad)).toThrow(/cannot read the pipeline config .*missing\.json .*-c config=FILE/);
  });

  it('with useDefaultBus, creates no bus and puts every rule and event on the default bus', () => {
    const other = new App({ context: { ...NO_BUNDLING, config: LAMBDA_TARGETS, useDefaultBus: 'true' } });
    const t = Template.fromStack(buildApp(other)).toJSON().Resources as Record<string, Json>;
    const all = Object.values(t);
    expect(all.filter((r) => r.Type === 'AWS::Events::EventBus')).toEqual([]);
    // The machines' rules, the reconciler's execution-ended rule and the release notifications' rules.
    // (Beside the drift check's schedule, which runs on the default bus whatever the option: test/infra/drift.test.ts.)
    expect(all.filter((r) => r.Type === 'AWS::Events::Rule' && r.Properties.ScheduleExpression === undefined).map((r) => r.Properties.EventBusName)).toEqual([...EVENT_RULES, 'execution-ended', ...NOTIFICATIONS].map(() => 'default'));
    for (const m of all.filter((r) => r.Type === 'AWS::StepFunctions::StateMachine')) expect(m.Properties.DefinitionSubstitutions.EventBusName).toBe('default');
  });

  it('refuses an ASL placeholder that names no function', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { Stack } = await import('aws-cdk-lib');
    const { EventBus } = await import('aws-cdk-lib/aws-events');
    const dir = mkdtempSync(join(tmpdir(), 'tagflow-asl-'));
    const file = join(dir, 'x.asl.json');
    writeFileSync(file, JSON.stringify({ StartAt: 'A', States: { A: { Type: 'Task', Resource: '${NopeFnArn}', End: true } } }));
    const s = new Stack(new App(), 'S');
    expect(() => new AslStateMachine(s, 'X', { file, functions: new Map(), eventBus: EventBus.fromEventBusName(s, 'B', 'default') })).toThrow(/uses \$\{NopeFnArn\}, which names no function/);
  });
});
