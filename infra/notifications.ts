import { CfnOutput, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { LoggingLevel, SlackChannelConfiguration } from 'aws-cdk-lib/aws-chatbot';
import { Rule, RuleTargetInput, type IEventBus, type IRule, type IRuleTarget, type RuleTargetConfig, type RuleTargetInputProperties } from 'aws-cdk-lib/aws-events';
import { ManagedPolicy, PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Topic, type ITopic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { NOTIFICATIONS, transformerOf, type Notification } from '../lambdas/lib/notifications.js';
import type { InputTransformer } from '../lambdas/lib/notifications-transformer.js';
import { toCdkPattern } from './triggers.js';

export interface SlackChannel {
  /** The Slack workspace (team) ID AWS Chatbot was authorised for in the console, e.g. T07EA123LEP. */
  workspaceId: string;
  /** The channel's ID, e.g. C07EZ1ABC23 (private channels need /invite @aws first). */
  channelId: string;
}

export interface ReleaseNotificationsProps {
  /** The bus the machines put their lifecycle events on. */
  bus: IEventBus;
  /** Posts every notification to this Slack channel through AWS Chatbot; none when absent. */
  slack?: SlackChannel;
}

/** A rule target input that is exactly the core module's transformer (RuleTargetInput.fromText would rename the variables). */
class ExactInput extends RuleTargetInput {
  constructor(private readonly transformer: InputTransformer) {
    super();
  }
  bind(_rule: IRule): RuleTargetInputProperties {
    return { inputPathsMap: this.transformer.InputPathsMap, inputTemplate: this.transformer.InputTemplate };
  }
}

/** The topic, with the notification's transformer as input (the topic policy below lets the rules publish). */
class NotificationTarget implements IRuleTarget {
  constructor(
    private readonly topic: ITopic,
    private readonly notification: Notification,
  ) {}
  bind(_rule: IRule, _id?: string): RuleTargetConfig {
    return { arn: this.topic.topicArn, input: new ExactInput(transformerOf(this.notification)) };
  }
}

/**
 * The ReleaseNotifications topic: one rule per release lifecycle event
 * (lambdas/lib/notifications.ts) publishes its one-line message there through an input
 * transformer, no function in between. KMS-encrypted and TLS-only like the alerts topic; only
 * these rules may publish. With a Slack channel, AWS Chatbot posts each message there, with a
 * role that can do nothing and a read-only guardrail.
 */
export class ReleaseNotifications extends Construct {
  readonly topic: Topic;
  readonly rules = new Map<string, Rule>();
  readonly slack: SlackChannelConfiguration | undefined;

  constructor(scope: Construct, id: string, props: ReleaseNotificationsProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const events = new ServicePrincipal('events.amazonaws.com');
    const key = new Key(this, 'Key', {
      description: `${stack.stackName}: encrypts the release notifications topic`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.topic = new Topic(this, 'Topic', { displayName: `${stack.stackName} releases`, masterKey: key, enforceSSL: true });

    for (const n of NOTIFICATIONS) {
      const rule = new Rule(this, n.name, {
        eventBus: props.bus,
        description: `Publishes "${n.event}" to the release notifications topic.`,
        eventPattern: toCdkPattern(n),
        targets: [new NotificationTarget(this.topic, n)],
      });
      this.rules.set(n.name, rule);
    }

    // Only this stack's notification rules publish (a topic policy replaces SNS's default one),
    // and EventBridge needs the key to encrypt what it publishes.
    const ruleArns = [...this.rules.values()].map((r) => r.ruleArn);
    const fromRules = { ArnEquals: { 'aws:SourceArn': ruleArns }, StringEquals: { 'aws:SourceAccount': stack.account } };
    this.topic.addToResourcePolicy(new PolicyStatement({ principals: [events], actions: ['sns:Publish'], resources: [this.topic.topicArn], conditions: fromRules }));
    key.addToResourcePolicy(new PolicyStatement({ principals: [events], actions: ['kms:Decrypt', 'kms:GenerateDataKey*'], resources: ['*'], conditions: { StringEquals: { 'aws:SourceAccount': stack.account } } }));

    new CfnOutput(stack, 'ReleaseNotificationsTopicArn', {
      value: this.topic.topicArn,
      description: 'One line per release event (started, promoted, canary step, approval requested, succeeded, failed, rolled back, aborted), as an AWS Chatbot custom notification: subscribe people, a chat channel or a pager',
    });

    if (props.slack) {
      this.slack = new SlackChannelConfiguration(this, 'Slack', {
        slackChannelConfigurationName: `${stack.stackName}-releases`,
        slackWorkspaceId: props.slack.workspaceId,
        slackChannelId: props.slack.channelId,
        notificationTopics: [this.topic],
        // Chatbot's own role gets no permissions, and the guardrail caps what anyone could ever run from the channel at read-only.
        guardrailPolicies: [ManagedPolicy.fromAwsManagedPolicyName('ReadOnlyAccess')],
        loggingLevel: LoggingLevel.ERROR,
      });
    }
  }
}

/** The Slack channel from the `slackWorkspaceId` and `slackChannelId` context: both or neither. */
export function slackChannelFrom(context: (key: string) => unknown): SlackChannel | undefined {
  const workspaceId = context('slackWorkspaceId');
  const channelId = context('slackChannelId');
  if (workspaceId === undefined && channelId === undefined) return undefined;
  if (typeof workspaceId !== 'string' || !/^[0-9A-Z]{1,255}$/.test(workspaceId)) {
    throw new Error(`slackWorkspaceId ${JSON.stringify(workspaceId)} is not a Slack workspace ID (e.g. T07EA123LEP): authorise AWS Chatbot for the workspace in its console, copy the workspace ID, and pass both -c slackWorkspaceId=… -c slackChannelId=…`);
  }
  if (typeof channelId !== 'string' || !/^[A-Za-z0-9]{1,255}$/.test(channelId)) {
    throw new Error(`slackChannelId ${JSON.stringify(channelId)} is not a Slack channel ID (e.g. C07EZ1ABC23; in Slack: channel details, at the bottom): pass both -c slackWorkspaceId=… -c slackChannelId=…`);
  }
  return { workspaceId, channelId };
}
