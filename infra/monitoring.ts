import { ArnFormat, CfnOutput, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Alarm, AlarmStatusWidget, ComparisonOperator, Dashboard, GraphWidget, TreatMissingData, type IMetric } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';

export interface MonitoringProps {
  machines: Record<string, IStateMachine>;
  /** By step name. */
  functions: ReadonlyMap<string, IFunction>;
  /** The functions behind URLs (the GitHub webhook, the approvals), by name: errors and throttles alarm at once. */
  endpoints?: ReadonlyMap<string, IFunction>;
  /** Functions a rule invokes in the background (the reconciler), by name: one error alarms, since each is a cleanup left undone. */
  background?: ReadonlyMap<string, IFunction>;
  deadLetterQueue: IQueue;
  /** Subscribed to the alerts topic by email (AWS sends a confirmation first). */
  alertEmail?: string;
}

/**
 * Alarms on the pipeline itself (not on the services it releases) and a small dashboard. Every
 * alarm notifies the alerts topic (KMS-encrypted, TLS only); subscribe people or a pager to it.
 *
 * Alarm names start with the stack name, so they are easy to tell apart from services'
 * alarms. The alarm-to-rollback rule matches only alarms the config lists or tags for a
 * service, never these (infra/app.ts refuses a config that lists one of them).
 */
export class Monitoring extends Construct {
  readonly alarms: Alarm[] = [];
  readonly dashboard: Dashboard;
  readonly topic: Topic;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const prefix = stack.stackName;
    const period = Duration.minutes(5);

    // A key of our own: the AWS-managed SNS key's policy cannot let CloudWatch use it, and
    // alarms could not publish to a topic encrypted with it.
    const key = new Key(this, 'AlertsKey', {
      description: `${prefix}: encrypts the pipeline's alerts topic`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const cloudwatch = new ServicePrincipal('cloudwatch.amazonaws.com');
    key.addToResourcePolicy(new PolicyStatement({ principals: [cloudwatch], actions: ['kms:Decrypt', 'kms:GenerateDataKey*'], resources: ['*'] }));
    this.topic = new Topic(this, 'Alerts', { displayName: `${prefix} pipeline alarms`, masterKey: key, enforceSSL: true });
    // The topic policy replaces SNS's default one: let this account's alarms publish, and nothing else.
    this.topic.addToResourcePolicy(
      new PolicyStatement({
        principals: [cloudwatch],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: {
          ArnLike: { 'aws:SourceArn': stack.formatArn({ service: 'cloudwatch', resource: 'alarm', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME }) },
          StringEquals: { 'aws:SourceAccount': stack.account },
        },
      }),
    );
    if (props.alertEmail !== undefined) {
      if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(props.alertEmail)) throw new Error(`alertEmail ${JSON.stringify(props.alertEmail)} is not an email address (cdk deploy -c alertEmail=ops@example.com)`);
      this.topic.addSubscription(new EmailSubscription(props.alertEmail));
    }
    new CfnOutput(stack, 'AlertsTopicArn', { value: this.topic.topicArn, description: 'Every pipeline alarm notifies this topic: subscribe on-call to it (or deploy with -c alertEmail=…)' });
    const notify = new SnsAction(this.topic);

    const alarm = (alarmId: string, metric: IMetric, description: string, periods = 1) => {
      const a = new Alarm(this, alarmId, {
        alarmName: `${prefix}-${alarmId}`,
        alarmDescription: description,
        metric,
        threshold: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: periods,
        datapointsToAlarm: periods,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
      a.addAlarmAction(notify);
      this.alarms.push(a);
      return a;
    };

    for (const [name, machine] of Object.entries(props.machines)) {
      alarm(`${name}-executions-failed`, machine.metricFailed({ period, statistic: 'Sum' }), `A ${name} execution failed (red tests, a bad artifact, a rollback, or the pipeline itself): see the execution's history and the ledger.`);
    }
    for (const [step, fn] of props.functions) {
      // Steps throw named errors on purpose (TestsPending and ReleaseLocked are retried for up to
      // 10 minutes; InvalidInput, TestsFailed… end a release and fail the execution, alarmed
      // above), and Lambda counts them all as Errors. Errors in three consecutive 5-minute
      // periods outlast any one such wait: something is broken, not just waiting.
      alarm(`${step}-errors`, fn.metricErrors({ period, statistic: 'Sum' }), `The ${step} function has failed for 15 minutes running.`, 3);
    }
    for (const [name, fn] of props.endpoints ?? []) {
      // A function behind a URL answers people and GitHub, who do not retry on their own: one
      // failed request is a delivery or a decision lost until someone resends it.
      alarm(`${name}-errors`, fn.metricErrors({ period, statistic: 'Sum' }), `The ${name} function failed a request (its caller saw a 5xx and must send it again): see its logs.`);
      alarm(
        `${name}-throttles`,
        fn.metricThrottles({ period, statistic: 'Sum' }),
        `The ${name} function refused requests at its reserved concurrency: a flood of requests, or legitimate ones turned away (GitHub does not redeliver on its own).`,
      );
    }
    for (const [name, fn] of props.background ?? []) {
      alarm(`${name}-errors`, fn.metricErrors({ period, statistic: 'Sum' }), `The ${name} function failed: an ended execution may still hold a lock or a canary's traffic (Lambda retries twice, then the event goes to the triggers' dead-letter queue); see its logs.`);
    }
    alarm(
      'trigger-dead-letters',
      props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum' }),
      'EventBridge could not start a state machine for a trigger (permissions, throttling, a deleted machine): the event waits in the dead-letter queue.',
    );

    // Dashboard names are per account, not per region: the region keeps two deployments of one stack name apart.
    this.dashboard = new Dashboard(this, 'Dashboard', { dashboardName: `${prefix}-pipeline-${Stack.of(this).region}` });
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Executions',
        width: 12,
        left: Object.entries(props.machines).flatMap(([name, m]) => [
          m.metricStarted({ period, statistic: 'Sum', label: `${name} started` }),
          m.metricSucceeded({ period, statistic: 'Sum', label: `${name} succeeded` }),
          m.metricFailed({ period, statistic: 'Sum', label: `${name} failed` }),
        ]),
      }),
      new GraphWidget({
        title: 'Step errors',
        width: 12,
        left: [...props.functions, ...(props.endpoints ?? [])].map(([step, fn]) => fn.metricErrors({ period, statistic: 'Sum', label: step })),
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Step duration (p99)',
        width: 12,
        left: [...props.functions].map(([step, fn]) => fn.metricDuration({ period, statistic: 'p99', label: step })),
      }),
      new GraphWidget({
        title: 'Trigger dead letters',
        width: 6,
        left: [props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum' })],
      }),
      new AlarmStatusWidget({ title: 'Alarms', width: 6, alarms: this.alarms }),
    );
  }
}
