import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { NOTIFICATIONS, transformerOf } from '../../lambdas/lib/notifications.js';
import { buildApp, PROJECT_ROOT } from '../../infra/app.js';
import { list, type Json, type Statement } from '../support/template.js';

/** The real app, synthesised without bundling: the ReleaseNotifications topic, its rules, and the optional Slack channel. */

const FIXTURE = join(PROJECT_ROOT, 'test', 'infra', 'fixtures', 'lambda-targets.config.json');
const SLACK = { slackWorkspaceId: 'T07EA123LEP', slackChannelId: 'C07EZ1ABC23' };
const synth = (context: Record<string, unknown> = {}) => {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [], config: FIXTURE, ...context } });
  return { app, stack: buildApp(app) };
};
const ofType = (resources: Record<string, Json>, type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);

let resources: Record<string, Json>;
let outputs: Record<string, Json>;
let nagViolations: string[];
let topicId: string;

beforeAll(() => {
  const { app, stack } = synth();
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  try {
    app.synth();
  } catch {
    // cdk-nag findings make synth throw; the report below says which.
  }
  const report = JSON.parse(readFileSync(join(app.outdir, 'validation-report.json'), 'utf8')) as { pluginReports: { violations?: unknown[] }[] };
  nagViolations = report.pluginReports.flatMap((r) => r.violations ?? []).map((v) => JSON.stringify(v)).filter((v) => v.includes('ReleaseNotifications'));
  const template = Template.fromStack(stack).toJSON();
  resources = template.Resources;
  outputs = template.Outputs;
  const topics = ofType(resources, 'AWS::SNS::Topic').filter(([id]) => id.startsWith('ReleaseNotifications'));
  expect(topics).toHaveLength(1);
  topicId = topics[0]![0];
});

describe('ReleaseNotifications', () => {
  it('has no cdk-nag findings', () => {
    expect(nagViolations).toEqual([]);
  });

  it('is a KMS-encrypted topic, named in the ReleaseNotificationsTopicArn output', () => {
    const topic = resources[topicId]!;
    expect(topic.Properties.KmsMasterKeyId['Fn::GetAtt'][0]).toMatch(/^ReleaseNotificationsKey/);
    expect(outputs.ReleaseNotificationsTopicArn?.Value).toEqual({ Ref: topicId });
  });

  it('deploys one rule per lifecycle event on the pipeline bus, with the core module\'s pattern and transformer, targeting the topic', () => {
    const rules = ofType(resources, 'AWS::Events::Rule').filter(([id]) => id.startsWith('ReleaseNotifications')).map(([, r]) => r.Properties);
    expect(rules).toHaveLength(NOTIFICATIONS.length);
    const bus = ofType(resources, 'AWS::Events::EventBus')[0]![0];
    for (const n of NOTIFICATIONS) {
      const matching = rules.filter((r) => JSON.stringify(r.EventPattern) === JSON.stringify(n.pattern));
      expect(matching, n.name).toHaveLength(1);
      const rule = matching[0]!;
      expect(rule.EventBusName).toEqual({ Ref: bus });
      expect(rule.Targets).toHaveLength(1);
      expect(rule.Targets[0].Arn).toEqual({ Ref: topicId });
      expect(rule.Targets[0].InputTransformer).toEqual(transformerOf(n));
    }
  });

  it('lets only those rules publish (EventBridge, from this account) and refuses plain HTTP', () => {
    const [, policy] = ofType(resources, 'AWS::SNS::TopicPolicy').find(([, p]) => p.Properties.Topics.some((t: Json) => t.Ref === topicId))!;
    const statements = policy.Properties.PolicyDocument.Statement as (Statement & { Principal: Json })[];
    const allows = statements.filter((s) => s.Effect === 'Allow');
    expect(allows).toHaveLength(1);
    expect(allows[0]).toMatchObject({ Principal: { Service: 'events.amazonaws.com' }, Action: 'sns:Publish' });
    const ruleIds = ofType(resources, 'AWS::Events::Rule').filter(([id]) => id.startsWith('ReleaseNotifications')).map(([id]) => id).sort();
    const sourceArns = list(allows[0]!.Condition!.ArnEquals['aws:SourceArn']).map((a: Json) => a['Fn::GetAtt'][0]).sort();
    expect(sourceArns).toEqual(ruleIds);
    expect(allows[0]!.Condition!.StringEquals['aws:SourceAccount']).toEqual({ Ref: 'AWS::AccountId' });
    expect(statements.some((s) => s.Effect === 'Deny' && s.Condition?.Bool?.['aws:SecureTransport'] === 'false')).toBe(true);
  });

  it('lets EventBridge encrypt with the topic\'s key', () => {
    const keyId = resources[topicId]!.Properties.KmsMasterKeyId['Fn::GetAtt'][0];
    const statements = resources[keyId]!.Properties.KeyPolicy.Statement as (Statement & { Principal: Json })[];
    expect(statements.find((s) => s.Principal?.Service === 'events.amazonaws.com')).toMatchObject({ Effect: 'Allow', Action: ['kms:Decrypt', 'kms:GenerateDataKey*'] });
  });

  it('creates no Slack channel without the context', () => {
    expect(ofType(resources, 'AWS::Chatbot::SlackChannelConfiguration')).toEqual([]);
  });
});

describe('the Slack channel (-c slackWorkspaceId=… -c slackChannelId=…)', () => {
  it('subscribes AWS Chatbot to the topic, with a role that may do nothing and a read-only guardrail', () => {
    const { stack } = synth(SLACK);
    const res = Template.fromStack(stack).toJSON().Resources as Record<string, Json>;
    const channels = ofType(res, 'AWS::Chatbot::SlackChannelConfiguration');
    expect(channels).toHaveLength(1);
    const p = channels[0]![1].Properties;
    expect(p).toMatchObject({ SlackWorkspaceId: SLACK.slackWorkspaceId, SlackChannelId: SLACK.slackChannelId, SnsTopicArns: [{ Ref: topicId }], LoggingLevel: 'ERROR' });
    expect(JSON.stringify(p.GuardrailPolicies)).toContain(':iam::aws:policy/ReadOnlyAccess');
    const roleId = p.IamRoleArn['Fn::GetAtt'][0];
    expect(res[roleId]!.Properties.AssumeRolePolicyDocument.Statement[0].Principal).toEqual({ Service: 'chatbot.amazonaws.com' });
    expect(res[roleId]!.Properties.ManagedPolicyArns).toBeUndefined();
    expect(ofType(res, 'AWS::IAM::Policy').filter(([, pol]) => pol.Properties.Roles.some((r: Json) => r.Ref === roleId))).toEqual([]);
  });

  it('needs both IDs, and says what each looks like', () => {
    expect(() => synth({ slackWorkspaceId: SLACK.slackWorkspaceId })).toThrow(/slackChannelId undefined is not a Slack channel ID .*pass both -c slackWorkspaceId=… -c slackChannelId=…/);
    expect(() => synth({ ...SLACK, slackWorkspaceId: 'my team' })).toThrow(/slackWorkspaceId "my team" is not a Slack workspace ID \(e\.g\. T07EA123LEP\)/);
  });
});
