import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { matchesPattern, type EventPattern } from '../../lambdas/lib/event-pattern.js';
import { placeholderOf } from '../../lambdas/steps.js';
import { buildApp, cliEnvironment, PROJECT_ROOT, type BuildOptions } from '../../infra/app.js';
import { aslFacts, CALLBACK_INVOCATION_TIMEOUT_SECONDS, readAslFacts } from '../../infra/asl.js';
import type { TagflowStack } from '../../infra/stack.js';
import { flat, type Json } from '../support/template.js';

/**
 * What would break in a real AWS account, refused or fixed at synth (no bundling:
 * `aws:cdk:bundling-stacks: []`): configs that cannot deploy, targets in another region,
 * physical names two stacks (or a stack deployed again after `cdk destroy`) would share,
 * the alarm rule, the alarm-tag permission, and callback functions' timeouts.
 */

const NO_BUNDLING = { 'aws:cdk:bundling-stacks': [] };
const AWS_EXAMPLE = join(PROJECT_ROOT, 'examples', 'aws.config.json');
const DEMO = join(PROJECT_ROOT, 'examples', 'tagflow.config.json');
const FIXTURE = join(PROJECT_ROOT, 'test', 'infra', 'fixtures', 'lambda-targets.config.json');

const synth = (config: string | undefined, options: BuildOptions = {}): TagflowStack => buildApp(new App({ context: { ...NO_BUNDLING, ...(config ? { config } : {}) } }), options);
const resourcesOf = (stack: TagflowStack): Record<string, Json> => Template.fromStack(stack).toJSON().Resources;
let exampleResources: Record<string, Json> | undefined;
/** The AWS example's template, synthesised once for the tests that only read it. */
const example = () => (exampleResources ??= resourcesOf(synth(AWS_EXAMPLE)));

function tempConfig(config: unknown): string {
  const file = join(mkdtempSync(join(tmpdir(), 'tagflow-deploy-checks-')), 'tagflow.config.json');
  writeFileSync(file, JSON.stringify(config));
  return file;
}


/** The properties that give a resource a physical name in the account. */
const NAME_PROPERTIES: Record<string, string> = {
  'AWS::Logs::LogGroup': 'LogGroupName',
  'AWS::Events::EventBus': 'Name',
  'AWS::Events::Rule': 'Name',
  'AWS::CloudWatch::Alarm': 'AlarmName',
  'AWS::CloudWatch::Dashboard': 'DashboardName',
  'AWS::DynamoDB::Table': 'TableName',
  'AWS::S3::Bucket': 'BucketName',
  'AWS::SQS::Queue': 'QueueName',
  'AWS::SNS::Topic': 'TopicName',
  'AWS::StepFunctions::StateMachine': 'StateMachineName',
  'AWS::Lambda::Function': 'FunctionName',
  'AWS::IAM::Role': 'RoleName',
  'AWS::IAM::ManagedPolicy': 'ManagedPolicyName',
  'AWS::SecretsManager::Secret': 'Name',
};
const physicalNames = (resources: Record<string, Json>) =>
  Object.values(resources).flatMap((r) => {
    const key = NAME_PROPERTIES[r.Type];
    const name = key ? r.Properties?.[key] : undefined;
    return name === undefined ? [] : [{ type: r.Type as string, name: flat(name), retained: r.DeletionPolicy === 'Retain', raw: name }];
  });

describe('configs that cannot work in AWS fail synth, naming the field', () => {
  it('the local demo config (targets of type "local")', () => {
    expect(() => synth(DEMO)).toThrow(/tagflow\.config\.json cannot be deployed to AWS: services\.demo\.target: type "local" .*runs only in the local runtime.*cdk deploy -c config=FILE/);
  });

  it('an environment whose own target is local', () => {
    const file = tempConfig({ services: { api: { target: { type: 'lambda-alias', functionName: 'api-{environment}' }, environments: [{ name: 'dev' }, { name: 'prod', target: { type: 'local' } }] } } });
    expect(() => synth(file)).toThrow(/services\.api\.environments\[1\]\.target: type "local"/);
  });

  it('no config at all: says to pass one with -c config=FILE', () => {
    expect(() => synth(undefined)).toThrow(/no pipeline config: pass it with -c config=FILE/);
  });

  it('the AWS example and the fixture synthesise', () => {
    expect(synth(AWS_EXAMPLE).node.id).toBe('Tagflow');
    expect(synth(FIXTURE).node.id).toBe('Tagflow');
  });

  it('a config listing one of the stack\'s own alarms as a service\'s', () => {
    const file = tempConfig({ services: { api: { target: { type: 'lambda-alias', functionName: 'api' }, environments: [{ name: 'prod', alarms: ['Tagflow-trigger-dead-letters'] }] } } });
    expect(() => synth(file)).toThrow(/services\.api\.environments\[0\]\.alarms\[0\]: "Tagflow-trigger-dead-letters" is one of the alarms the stack puts on the pipeline itself/);
  });
});

describe('a target in another region than the stack', () => {
  it('is refused when the stack\'s region is known', () => {
    expect(() => synth(FIXTURE, { env: { account: '111122223333', region: 'us-east-1' } })).toThrow(
      /services\.checkout\.environments\[2\]\.target\.functionName: names a function in eu-west-1 \(for checkout's prod\), but the stack deploys to us-east-1/,
    );
  });

  it('is accepted in its own region; an env-agnostic stack cannot tell and synthesises (CloudFormation fills in AWS::Region)', () => {
    const stack = synth(FIXTURE, { env: { account: '111122223333', region: 'eu-west-1' } });
    expect(stack.region).toBe('eu-west-1');
    const agnostic = synth(FIXTURE);
    expect(agnostic.resolve(agnostic.region)).toEqual({ Ref: 'AWS::Region' });
  });

  it('the cdk CLI\'s profile decides the stack\'s environment (CDK_DEFAULT_ACCOUNT/REGION); without them it is env-agnostic', () => {
    expect(cliEnvironment({ CDK_DEFAULT_ACCOUNT: '111122223333', CDK_DEFAULT_REGION: 'eu-west-1' })).toEqual({ account: '111122223333', region: 'eu-west-1' });
    expect(cliEnvironment({ CDK_DEFAULT_REGION: 'eu-west-1' })).toEqual({ region: 'eu-west-1' });
    expect(cliEnvironment({})).toBeUndefined();
  });
});

describe('physical names', () => {
  let a: Record<string, Json>;
  let b: Record<string, Json>;
  beforeAll(() => {
    // Two stacks side by side in one app: one account, one region.
    const app = new App({ context: { ...NO_BUNDLING, config: AWS_EXAMPLE } });
    const stacks = [buildApp(app, { stackName: 'TagflowA' }), buildApp(app, { stackName: 'TagflowB' })];
    [a, b] = stacks.map(resourcesOf) as [Record<string, Json>, Record<string, Json>];
  }, 120_000);

  it('no physical name of one stack is a name of the other', () => {
    const namesA = physicalNames(a);
    const namesB = new Set(physicalNames(b).map((n) => `${n.type} ${n.name}`));
    // What has a fixed name: the machines' log groups, the bus, the alarms, the dashboard.
    expect(new Set(namesA.map((n) => n.type))).toEqual(new Set(['AWS::Logs::LogGroup', 'AWS::Events::EventBus', 'AWS::CloudWatch::Alarm', 'AWS::CloudWatch::Dashboard']));
    expect(namesA.filter((n) => namesB.has(`${n.type} ${n.name}`))).toEqual([]);
  });

  it('the bus is named after the stack, the dashboard (named per account) after the stack and the region', () => {
    const bus = physicalNames(a).filter((n) => n.type === 'AWS::Events::EventBus');
    expect(bus.map((n) => n.name)).toEqual(['TagflowA']);
    expect(physicalNames(a).filter((n) => n.type === 'AWS::CloudWatch::Dashboard').map((n) => n.name)).toEqual(['TagflowA-pipeline-<AWS::Region>']);
  });

  it('a retained log group with a name gets a new name for each stack created, so destroy then deploy does not find it "already exists"', () => {
    const named = physicalNames(a).filter((n) => n.type === 'AWS::Logs::LogGroup');
    expect(named).toHaveLength(2);
    for (const n of named) {
      expect(n.retained, n.name).toBe(true);
      expect(n.name).toMatch(/^\/aws\/vendedlogs\/states\/TagflowA-(Release|Rollback)-<select\(4, <split\(-, <select\(2, <split\(\/, <AWS::StackId>\)>\)>\)>\)>$/);
    }
    // The state machines log to those groups.
    const groups = Object.entries(a).filter(([, r]) => r.Type === 'AWS::Logs::LogGroup' && r.Properties.LogGroupName).map(([id]) => id);
    const machines = Object.values(a).filter((r) => r.Type === 'AWS::StepFunctions::StateMachine');
    expect(machines.map((m) => m.Properties.LoggingConfiguration.Destinations[0].CloudWatchLogsLogGroup.LogGroupArn['Fn::GetAtt'][0]).sort()).toEqual(groups.sort());
  });
});

describe('the deployed alarm-to-rollback rule', () => {
  let resources: Record<string, Json>;
  let pattern: EventPattern;
  beforeAll(() => {
    resources = example();
    const rules = Object.values(resources).filter((r) => r.Type === 'AWS::Events::Rule' && r.Properties.EventPattern?.source?.[0] === 'aws.cloudwatch');
    expect(rules).toHaveLength(1);
    pattern = rules[0]!.Properties.EventPattern;
  }, 120_000);

  const alarmEvent = (alarmName: string, alarmTags?: Record<string, string>) => ({
    version: '0',
    id: 'c4c1c1c9-6542-e61b-6ef0-8c4d36933a92',
    'detail-type': 'CloudWatch Alarm State Change',
    source: 'aws.cloudwatch',
    account: '111122223333',
    time: '2026-11-20T11:04:40Z',
    region: 'eu-west-1',
    resources: [`arn:aws:cloudwatch:eu-west-1:111122223333:alarm:${alarmName}`],
    detail: { alarmName, state: { value: 'ALARM', reason: 'Threshold Crossed', timestamp: '2026-11-20T11:04:40.989+0000' }, previousState: { value: 'OK' }, ...(alarmTags ? { alarmTags, alarmTagsStatus: 'SUCCESS' } : {}) },
  });

  it('matches the alarms the config lists and those tagged for its services', () => {
    expect(matchesPattern(pattern, alarmEvent('checkout-prod-errors'))).toBe(true);
    expect(matchesPattern(pattern, alarmEvent('checkout-prod-latency', { 'tagflow:service': 'checkout', 'tagflow:environment': 'prod' }))).toBe(true);
    expect(matchesPattern(pattern, alarmEvent('someone-elses-alarm'))).toBe(false);
  });

  it('never matches the stack\'s own alarms', () => {
    const own = Object.values(resources).filter((r) => r.Type === 'AWS::CloudWatch::Alarm').map((r) => r.Properties.AlarmName as string);
    expect(own.length).toBeGreaterThan(20);
    for (const name of own) {
      expect(matchesPattern(pattern, alarmEvent(name)), name).toBe(false);
      // Nor with tags: the stack puts no tagflow:* tags on its alarms.
      expect(matchesPattern(pattern, alarmEvent(name, { 'aws:cloudformation:stack-name': 'Tagflow' })), name).toBe(false);
    }
    for (const r of Object.values(resources).filter((x) => x.Type === 'AWS::CloudWatch::Alarm')) {
      expect((r.Properties.Tags ?? []).filter((t: Json) => String(t.Key).startsWith('tagflow:'))).toEqual([]);
    }
  });
});

describe('alarm tags', () => {
  it('only normalise-rollback may read them (cloudwatch:ListTagsForResource on this account\'s alarms)', () => {
    const resources = example();
    const grants = Object.values(resources)
      .filter((r) => r.Type === 'AWS::IAM::Policy')
      .flatMap((p) => (p.Properties.PolicyDocument.Statement as Json[]).filter((s) => [s.Action].flat().includes('cloudwatch:ListTagsForResource')).map((s) => ({ roles: p.Properties.Roles.map((x: Json) => x.Ref), resource: flat(s.Resource) })));
    expect(grants).toHaveLength(1);
    expect(grants[0]!.resource).toBe('arn:<AWS::Partition>:cloudwatch:<AWS::Region>:<AWS::AccountId>:alarm:*');
    const fn = Object.values(resources).find((r) => r.Type === 'AWS::Lambda::Function' && r.Properties.Description === 'tagflow step normalise-rollback')!;
    expect(grants[0]!.roles).toEqual([fn.Properties.Role['Fn::GetAtt'][0]]);
  });
});

describe('function timeouts from the ASL', () => {
  it('a callback Task (waitForTaskToken) bounds the wait for its token, not the invocation', () => {
    const facts = aslFacts(
      JSON.stringify({
        StartAt: 'Ask',
        States: {
          Ask: { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken', Parameters: { FunctionName: '${AskFnArn}', Payload: { 'token.$': '$$.Task.Token' } }, TimeoutSeconds: 86_400, Next: 'Check' },
          Check: { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', Parameters: { FunctionName: '${CheckFnArn}' }, TimeoutSeconds: 45, Next: 'Record' },
          Record: { Type: 'Task', Resource: '${RecordFnArn}', TimeoutSeconds: 20, End: true },
        },
      }),
      'inline',
    );
    expect(Object.fromEntries(facts.taskTimeouts)).toEqual({ AskFnArn: CALLBACK_INVOCATION_TIMEOUT_SECONDS, CheckFnArn: 45, RecordFnArn: 20 });
  });

  it('request-approval, invoked only by callback Tasks waiting hours, gets the callback invocation timeout', () => {
    const release = readAslFacts(join(PROJECT_ROOT, 'state-machines', 'release.asl.json'));
    expect(release.integrations.has('arn:aws:states:::lambda:invoke.waitForTaskToken')).toBe(true);
    expect(release.taskTimeouts.get(placeholderOf('request-approval'))).toBe(CALLBACK_INVOCATION_TIMEOUT_SECONDS);
    const fn = Object.values(example()).find((r) => r.Type === 'AWS::Lambda::Function' && r.Properties.Description === 'tagflow step request-approval')!;
    expect(fn.Properties.Timeout).toBe(CALLBACK_INVOCATION_TIMEOUT_SECONDS);
  });
});
