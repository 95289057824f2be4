import { Duration, Stack } from 'aws-cdk-lib';
import { Alarm, AlarmStatusWidget, ComparisonOperator, Dashboard, GraphWidget, TreatMissingData, type IMetric } from 'aws-cdk-lib/aws-cloudwatch';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';

export interface MonitoringProps {
  machines: Record<string, IStateMachine>;
  /** By step name. */
  functions: ReadonlyMap<string, IFunction>;
  deadLetterQueue: IQueue;
}

/**
 * Alarms on the pipeline itself (not on the services it releases) and a small dashboard.
 *
 * Alarm names start with the stack name, so they are easy to tell apart from services'
 * alarms: the alarm-to-rollback rule sees every alarm in the account, and the rollback
 * machine ignores the ones no service lists.
 */
export class Monitoring extends Construct {
  readonly alarms: Alarm[] = [];
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const prefix = Stack.of(this).stackName;
    const period = Duration.minutes(5);
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
    alarm(
      'trigger-dead-letters',
      props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum' }),
      'EventBridge could not start a state machine for a trigger (permissions, throttling, a deleted machine): the event waits in the dead-letter queue.',
    );

    this.dashboard = new Dashboard(this, 'Dashboard', { dashboardName: `${prefix}-pipeline` });
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
        left: [...props.functions].map(([step, fn]) => fn.metricErrors({ period, statistic: 'Sum', label: step })),
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
