import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { STEP_NAMES, type StepName } from '../../lambdas/steps.js';
import { buildApp, PROJECT_ROOT } from '../../infra/app.js';
import { APPROVALS_RESERVED_CONCURRENCY } from '../../infra/approvals.js';
import { aslPutEvents, readAslPutEvents } from '../../infra/event-grants.js';
import type { TagflowStack } from '../../infra/stack.js';
import { DEPLOY_ACTIONS, IMAGE_ACTIONS, DRIFT_LEDGER_ACTIONS, INVOKE_ACTIONS, LEDGER_ACTIONS, READ_ACTIONS, METRICS_ACTIONS, SHIFT_ACTIONS, STAGE_ACTIONS, STEP_ACCESS, type StepAccess } from '../../infra/step-access.js';
import { list, flat, type Json, type Statement } from '../support/template.js';

/**
 * Least privilege in the synthesised template (bundling skipped; cdk-nag runs in stack.test.ts):
 * each function's role against STEP_ACCESS, PutEvents conditioned on what each role puts, the
 * public functions' reserved concurrency, the alerts topic every alarm notifies, CI's policy and the CLI's.
 */

const NO_BUNDLING = { 'aws:cdk:bundling-stacks': [] };
const CONFIG = join(PROJECT_ROOT, 'test', 'infra', 'fixtures', 'lambda-targets.config.json');
const ASL = { release: join(PROJECT_ROOT, 'state-machines', 'release.asl.json'), rollback: join(PROJECT_ROOT, 'state-machines', 'rollback.asl.json') };


let stack: TagflowStack;
let resources: Record<string, Json>;
let outputs: Record<string, Json>;
const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
const idOf = (construct: { node: { defaultChild?: unknown } }) => stack.getLogicalId(construct.node.defaultChild as never);
const fnId = (step: string) => {
  const found = ofType('AWS::Lambda::Function').find(([, r]) => r.Properties.Description === `tagflow step ${step}`);
  if (!found) throw new Error(`no function for step ${step}`);
  return found[0];
};
const statementsOfRole = (roleId: string): Statement[] =>
  ofType('AWS::IAM::Policy')
    .filter(([, p]) => p.Properties.Roles.some((r: Json) => r.Ref === roleId))
    .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as Statement[]);
const statementsOf = (step: string) => statementsOfRole(resources[fnId(step)]!.Properties.Role['Fn::GetAtt'][0]);
/** What a role may do beyond its own logs and X-Ray. */
const actionsOf = (statements: Statement[]) => [...new Set(statements.flatMap((s) => list(s.Action)).filter((a) => !/^(logs|xray):/.test(a)))].sort();
const allStatements = () => [
  ...ofType('AWS::IAM::Policy').flatMap(([, p]) => p.Properties.PolicyDocument.Statement as Statement[]),
  ...ofType('AWS::IAM::ManagedPolicy').flatMap(([, p]) => p.Properties.PolicyDocument.Statement as Statement[]),
];

beforeAll(() => {
  const app = new App({ context: { ...NO_BUNDLING, config: CONFIG, alertEmail: 'ops@example.com' } });
  stack = buildApp(app);
  const template = Template.fromStack(stack).toJSON();
  resources = template.Resources;
  outputs = template.Outputs;
});

/** What a row of STEP_ACCESS must come to, written out again here (the fixture has lambda-alias targets and an image repository). */
const KNOWN_FIELDS = ['ledger', 'artifacts', 'environments', 'targets', 'metrics', 'events', 'config', 'alarmTags', 'reports', 'signingKey', 'imageScans', 'migrations', 'verification'];
function expectedActions(a: StepAccess): string[] {
  // A new kind of access must be written out here too before this test passes.
  for (const field of Object.keys(a)) expect(KNOWN_FIELDS, `STEP_ACCESS field ${field}`).toContain(field);
  const out = new Set<string>();
  if ((a as { alarmTags?: true }).alarmTags) out.add('cloudwatch:ListTagsForResource');
  if (a.ledger === true) LEDGER_ACTIONS.forEach((x) => out.add(x));
  if (a.ledger === 'drift') DRIFT_LEDGER_ACTIONS.forEach((x) => out.add(x));
  if (a.artifacts?.length || a.environments) ['s3:ListBucket', 's3:GetObject'].forEach((x) => out.add(x));
  if (a.environments === 'read-write' || a.reports) out.add('s3:PutObject');
  if (a.targets?.includes('deploy')) DEPLOY_ACTIONS.forEach((x) => out.add(x));
  if (a.targets?.includes('stage')) STAGE_ACTIONS.forEach((x) => out.add(x));
  if (a.targets?.includes('shift')) SHIFT_ACTIONS.forEach((x) => out.add(x));
  if (a.targets?.includes('invoke')) INVOKE_ACTIONS.forEach((x) => out.add(x));
  if (a.targets?.includes('read')) READ_ACTIONS.forEach((x) => out.add(x));
  if ((a.targets?.includes('deploy') || a.targets?.includes('stage')) && a.environments) IMAGE_ACTIONS.forEach((x) => out.add(x));
  if (a.metrics) METRICS_ACTIONS.forEach((x) => out.add(x));
  if (a.signingKey) out.add('kms:GetPublicKey');
  if (a.imageScans) out.add('ecr:DescribeImageScanFindings');
  if (a.verification) ['kms:Sign', 'kms:GetPublicKey', 's3:PutObject'].forEach((x) => out.add(x));
  // `migrations` grants InvokeFunction only on the config's migration functions; this fixture declares none (test/infra/migrations.test.ts has them).
  if (a.events?.length) out.add('events:PutEvents');
  return [...out].sort();
}

const putEventsConditions = (statements: Statement[]) => statements.filter((s) => list(s.Action).includes('events:PutEvents')).map((s) => s.Condition);
const conditionFor = (detailTypes: readonly string[]) => ({
  'ForAllValues:StringEquals': { 'events:source': ['tagflow'], 'events:detail-type': [...detailTypes].sort() },
  Null: { 'events:source': 'false', 'events:detail-type': 'false' },
});

describe('each function\'s role is its row of STEP_ACCESS', () => {
  it('every step: exactly the actions its row grants', () => {
    for (const step of STEP_NAMES) expect(actionsOf(statementsOf(step)), step).toEqual(expectedActions(STEP_ACCESS[step as StepName]));
  });

  it('shift-canary may only move the alias; the judge may only call GetMetricData', () => {
    expect(actionsOf(statementsOf('shift-canary')).filter((a) => a.startsWith('lambda:'))).toEqual(['lambda:UpdateAlias']);
    expect(actionsOf(statementsOf('shift-canary')).filter((a) => a.startsWith('ecr:'))).toEqual([]);
    expect(actionsOf(statementsOf('judge-canary')).filter((a) => a.startsWith('cloudwatch:'))).toEqual(['cloudwatch:GetMetricData']);
    expect(allStatements().flatMap((s) => list(s.Action)).filter((a) => a === 'cloudwatch:GetMetricStatistics')).toEqual([]);
  });

  it('pre-traffic may publish and invoke a version but never move the alias (issue 15): its version takes no traffic', () => {
    const lambda = actionsOf(statementsOf('pre-traffic')).filter((a) => a.startsWith('lambda:'));
    expect(lambda).toEqual(expect.arrayContaining(['lambda:PublishVersion', 'lambda:UpdateFunctionCode', 'lambda:InvokeFunction']));
    expect(lambda).not.toContain('lambda:UpdateAlias');
    expect(lambda).not.toContain('lambda:CreateAlias');
  });

  it('the webhook reads its secret, puts Tag Pushed, and reads and writes delivery records only (DELIVERY# keys)', () => {
    const statements = statementsOf('github-webhook');
    expect(actionsOf(statements)).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'events:PutEvents', 'secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue']);
    const ledger = statements.filter((s) => list(s.Action).some((a) => a.startsWith('dynamodb:')));
    expect(ledger).toHaveLength(1);
    expect(flat(ledger[0]!.Resource)).toBe(`<${idOf(stack.ledger.table)}.Arn>`);
    expect(ledger[0]!.Condition).toEqual({ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['DELIVERY#*'] } });
    expect(putEventsConditions(statements)).toEqual([conditionFor(['Tag Pushed'])]);
    expect(resources[fnId('github-webhook')]!.Properties.Environment.Variables.LEDGER_TABLE).toEqual({ Ref: idOf(stack.ledger.table) });
  });
});

describe('events:PutEvents', () => {
  it('is conditioned on source tagflow and the detail-types the grantee puts, for every role that has it', () => {
    const puts = allStatements().filter((s) => list(s.Action).includes('events:PutEvents'));
    // request-approval, the drift check, the webhook, the reconciler (Release Aborted), both state machines, and the CLI policy (send-event).
    expect(puts).toHaveLength(7);
    for (const s of puts) {
      expect(s.Condition?.['ForAllValues:StringEquals']?.['events:source'], JSON.stringify(s)).toEqual(['tagflow']);
      expect(s.Condition?.['ForAllValues:StringEquals']?.['events:detail-type'], JSON.stringify(s)).toBeDefined();
      expect(s.Condition?.Null).toEqual({ 'events:source': 'false', 'events:detail-type': 'false' });
      expect(list(s.Resource).map(flat)).toEqual([`<${idOf(stack.bus as never)}.Arn>`]);
    }
    expect(putEventsConditions(statementsOf('request-approval'))).toEqual([conditionFor(['Approval Requested'])]);
    expect(putEventsConditions(statementsOf('detect-drift'))).toEqual([conditionFor(['Drift Detected'])]);
  });

  it('the state machines may put exactly the detail-types of their putEvents Tasks', () => {
    for (const [name, construct] of [['release', stack.release], ['rollback', stack.rollback!]] as const) {
      const scope = readAslPutEvents(ASL[name]);
      expect(scope.sources, name).toEqual(['tagflow']);
      expect(putEventsConditions(statementsOfRole(idOf(construct.machine.role as never))), name).toEqual([conditionFor(scope.detailTypes)]);
    }
    expect(readAslPutEvents(ASL.rollback).detailTypes).toEqual(['Release Rollback Failed', 'Release Rolled Back']);
    expect(readAslPutEvents(ASL.release).detailTypes).toEqual(expect.arrayContaining(['Release Started', 'Stage Promoted', 'Release Succeeded', 'Release Failed', 'Release Rolled Back', 'Release Rollback Failed']));
  });

  it('an ASL putEvents Task with a computed or missing DetailType fails synth (the grant could not name it)', () => {
    const machine = (entry: unknown) => JSON.stringify({ StartAt: 'P', States: { P: { Type: 'Parallel', End: true, Branches: [{ StartAt: 'E', States: { E: { Type: 'Task', Resource: 'arn:aws:states:::events:putEvents', Parameters: { Entries: [entry] }, End: true } } }] } } });
    expect(aslPutEvents(machine({ Source: 'tagflow', DetailType: 'X' }), 'm.json')).toEqual({ sources: ['tagflow'], detailTypes: ['X'] });
    expect(() => aslPutEvents(machine({ Source: 'tagflow', 'DetailType.$': '$.kind' }), 'm.json')).toThrow(/m\.json: state "E" puts an event whose Source or DetailType is not a literal/);
    expect(() => aslPutEvents(machine({ DetailType: 'X' }), 'm.json')).toThrow(/not a literal/);
  });
});

describe('public functions', () => {
  it('the webhook and the approval function have reserved concurrency; the steps share the account\'s pool', () => {
    expect(resources[fnId('github-webhook')]!.Properties.ReservedConcurrentExecutions).toBe(5);
    expect(resources[fnId('decide-approval')]!.Properties.ReservedConcurrentExecutions).toBe(APPROVALS_RESERVED_CONCURRENCY);
    for (const step of STEP_NAMES) expect(resources[fnId(step)]!.Properties.ReservedConcurrentExecutions, step).toBeUndefined();
  });
});

describe('alarms notify someone', () => {
  it('every alarm\'s action is the alerts topic; the webhook and the approvals alarm on errors and throttles', () => {
    const topicId = idOf(stack.monitoring.topic);
    const alarms = ofType('AWS::CloudWatch::Alarm');
    expect(alarms.length).toBeGreaterThan(STEP_NAMES.length);
    for (const [id, a] of alarms) expect(a.Properties.AlarmActions, id).toEqual([{ Ref: topicId }]);
    for (const fn of ['github-webhook', 'decide-approval']) {
      const mine = alarms.filter(([, a]) => (a.Properties.Dimensions ?? []).some((d: Json) => d.Name === 'FunctionName' && d.Value?.Ref === fnId(fn)));
      expect(mine.map(([, a]) => a.Properties.MetricName).sort(), fn).toEqual(['Errors', 'Throttles']);
      for (const [, a] of mine) expect(a.Properties.EvaluationPeriods, fn).toBe(1);
    }
    expect(flat(outputs.AlertsTopicArn!.Value)).toBe(`<${topicId}>`);
  });

  it('the topic is encrypted with a rotated key CloudWatch may use, refuses non-TLS requests, lets only this account\'s alarms publish, and mails alertEmail', () => {
    // The alerts topic (ReleaseNotifications has its own topic and key: test/infra/notifications.test.ts).
    const [[topicId, topic]] = ofType('AWS::SNS::Topic').filter(([id]) => !id.startsWith('ReleaseNotifications')) as [[string, Json]];
    const [[keyId, key]] = ofType('AWS::KMS::Key').filter(([id]) => !id.startsWith('ReleaseNotifications') && !id.startsWith('Signing') && !id.startsWith('Verification')) as [[string, Json]];
    expect(topic.Properties.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [keyId, 'Arn'] });
    expect(key.Properties.EnableKeyRotation).toBe(true);
    const keyStatements = key.Properties.KeyPolicy.Statement as Json[];
    expect(keyStatements.some((s) => s.Principal?.Service === 'cloudwatch.amazonaws.com' && list(s.Action).includes('kms:Decrypt') && list(s.Action).includes('kms:GenerateDataKey*'))).toBe(true);

    const statements = ofType('AWS::SNS::TopicPolicy').filter(([, p]) => p.Properties.Topics.some((t: Json) => t.Ref === topicId)).flatMap(([, p]) => p.Properties.PolicyDocument.Statement as Json[]);
    expect(statements.some((s) => s.Effect === 'Deny' && s.Condition?.Bool?.['aws:SecureTransport'] === 'false')).toBe(true);
    const publish = statements.filter((s) => s.Effect === 'Allow');
    expect(publish).toHaveLength(1);
    expect(publish[0]).toMatchObject({ Action: 'sns:Publish', Principal: { Service: 'cloudwatch.amazonaws.com' }, Resource: { Ref: topicId } });
    expect(flat(publish[0]!.Condition.ArnLike['aws:SourceArn'])).toBe('arn:<AWS::Partition>:cloudwatch:<AWS::Region>:<AWS::AccountId>:alarm:*');
    expect(publish[0]!.Condition.StringEquals).toEqual({ 'aws:SourceAccount': { Ref: 'AWS::AccountId' } });

    expect(ofType('AWS::SNS::Subscription').map(([, s]) => s.Properties)).toEqual([expect.objectContaining({ Protocol: 'email', Endpoint: 'ops@example.com', TopicArn: { Ref: topicId } })]);
  });

  it('without alertEmail there is no subscription; a malformed one fails synth saying how to set it', () => {
    const plain = Template.fromStack(buildApp(new App({ context: { ...NO_BUNDLING, config: CONFIG } }))).toJSON().Resources as Record<string, Json>;
    expect(Object.values(plain).filter((r) => r.Type === 'AWS::SNS::Subscription')).toEqual([]);
    expect(() => buildApp(new App({ context: { ...NO_BUNDLING, config: CONFIG, alertEmail: 'ops' } }))).toThrow(/alertEmail "ops" is not an email address \(cdk deploy -c alertEmail=ops@example.com\)/);
  });
});

describe('CI uploader policy', () => {
  it('may put (and abort uploads of) objects under builds/ and ci/ of the artifacts bucket, and nothing else', () => {
    const policyId = idOf(stack.ciUploader.policy as never);
    const policy = resources[policyId]!;
    // Its statement on the manifest signing key (kms:Sign): test/infra/signing.test.ts.
    const statements = (policy.Properties.PolicyDocument.Statement as Statement[]).filter((s) => !list(s.Action).some((a) => a.startsWith('kms:')));
    expect(statements).toHaveLength(1);
    const [s] = statements;
    expect(s!.Effect).toBe('Allow');
    expect(list(s!.Action).sort()).toEqual(['s3:AbortMultipartUpload', 's3:PutObject']);
    const artifacts = `<${idOf(stack.storage.artifacts)}.Arn>`;
    expect(list(s!.Resource).map(flat).sort()).toEqual([`${artifacts}/builds/*`, `${artifacts}/ci/*`]);
    const text = JSON.stringify(policy);
    expect(text).not.toContain(idOf(stack.storage.environments));
    expect(text).not.toContain(idOf(stack.ledger.table));
    expect(policy.Properties.Roles ?? policy.Properties.Users ?? policy.Properties.Groups).toBeUndefined();
    expect(outputs.CiUploaderPolicyArn!.Value).toEqual({ Ref: policyId });
  });
});

/** The release managers' policy (`CliPolicyArn`): what `tagflow … --stack` calls, and no write to the ledger (freezes go through the approval URL). */
describe('the CLI policy', () => {
  const statements = () => {
    const id = stack.getLogicalId(stack.cliAccess.policy.node.defaultChild as never);
    return resources[id]!.Properties.PolicyDocument.Statement as (Statement & { Sid: string })[];
  };
  const bySid = (sid: string) => statements().find((s) => s.Sid === sid)!;
  const ref = (construct: { node: { defaultChild?: unknown } }) => ({ Ref: stack.getLogicalId(construct.node.defaultChild as never) });

  it('is an output, for release managers to attach', () => {
    expect(outputs.CliPolicyArn!.Value).toEqual(ref(stack.cliAccess.policy as never));
  });

  it('grants exactly what the stack backend calls', () => {
    const actions = statements().flatMap((s) => list(s.Action)).sort();
    expect(actions).toEqual([
      'cloudformation:DescribeStacks',
      'cloudwatch:GetMetricData',
      'dynamodb:GetItem',
      'dynamodb:Query',
      'events:PutEvents',
      'states:DescribeExecution',
      'states:GetExecutionHistory',
      'states:StartExecution',
    ]);
  });

  it('writes nothing to the ledger, and puts only tagflow events', () => {
    const writes = statements().filter((s) => list(s.Action).some((a) => /^dynamodb:(Put|Update|Delete|Batch|Transact)/.test(a)));
    expect(writes).toEqual([]);
    expect(bySid('PutTriggerEvents').Condition).toEqual({ 'ForAllValues:StringEquals': { 'events:source': ['tagflow'], 'events:detail-type': ['Tag Pushed'] }, Null: { 'events:source': 'false', 'events:detail-type': 'false' } });
  });

  it('starts only this stack\'s two machines', () => {
    expect(list(bySid('StartExecutions').Resource)).toEqual([ref(stack.release.machine as never), ref(stack.rollback!.machine as never)]);
  });
});
