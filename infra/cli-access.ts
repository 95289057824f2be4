import { ArnFormat, CfnOutput, Stack } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import { ManagedPolicy, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { EventRule } from '../lambdas/lib/event-rules.js';
import { acknowledgeWildcardResource } from './nag.js';

/**
 * What `tagflow … --stack` needs, for the people who run releases: read the stack's outputs and
 * the ledger; start and follow executions of this stack's two machines; put trigger events
 * (source `tagflow`) on its bus; read CloudWatch for `tagflow plan`. It writes nothing to the
 * ledger: a freeze goes through the approval URL, whose function records the signer STS names
 * (lambdas/lib/freeze-http.ts), so approving and freezing need the approvers policy as well;
 * uploading builds, CI's.
 */
export class CliAccess extends Construct {
  readonly policy: ManagedPolicy;

  constructor(scope: Construct, id: string, props: { table: ITable; bus: IEventBus; machines: StateMachine[]; rules: readonly EventRule[] }) {
    super(scope, id);
    // What `tagflow send-event` may put: the events of source tagflow that the stack's rules start releases on.
    const detailTypes = [...new Set(props.rules.filter((r) => (r.pattern.source as string[] | undefined)?.includes('tagflow')).flatMap((r) => (r.pattern['detail-type'] as string[] | undefined) ?? []))].sort();
    const stack = Stack.of(this);
    const stackArn = stack.formatArn({ service: 'cloudformation', resource: 'stack', resourceName: `${stack.stackName}/*` });
    const executions = props.machines.map((m) => stack.formatArn({ service: 'states', resource: 'execution', resourceName: `${m.stateMachineName}:*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME }));
    this.policy = new ManagedPolicy(this, 'Policy', {
      description: 'tagflow CLI against this stack: read outputs and ledger, start and follow releases and rollbacks',
      statements: [
        new PolicyStatement({ sid: 'ReadStackOutputs', actions: ['cloudformation:DescribeStacks'], resources: [stackArn] }),
        new PolicyStatement({ sid: 'ReadLedger', actions: ['dynamodb:GetItem', 'dynamodb:Query'], resources: [props.table.tableArn] }),
        new PolicyStatement({ sid: 'StartExecutions', actions: ['states:StartExecution'], resources: props.machines.map((m) => m.stateMachineArn) }),
        new PolicyStatement({ sid: 'FollowExecutions', actions: ['states:DescribeExecution', 'states:GetExecutionHistory'], resources: executions }),
        new PolicyStatement({
          sid: 'PutTriggerEvents',
          actions: ['events:PutEvents'],
          resources: [props.bus.eventBusArn],
          conditions: { 'ForAllValues:StringEquals': { 'events:source': ['tagflow'], 'events:detail-type': detailTypes }, Null: { 'events:source': 'false', 'events:detail-type': 'false' } },
        }),
        new PolicyStatement({ sid: 'ReadMetrics', actions: ['cloudwatch:GetMetricData'], resources: ['*'] }),
      ],
    });
    acknowledgeWildcardResource(this.policy, stackArn, 'This stack only: its id suffix is not known before it is created.');
    for (const e of executions) acknowledgeWildcardResource(this.policy, e, 'Executions of this stack\'s machines only: the CLI follows the one it started, named at start.');
    acknowledgeWildcardResource(this.policy, '*', 'cloudwatch:GetMetricData has no resource-level permissions.');
    new CfnOutput(scope, 'CliPolicyArn', { value: this.policy.managedPolicyArn, description: 'Attach to release managers: tagflow … --stack (status, history, release, rollback; approve and freeze also need ApproversPolicyArn)' });
  }
}
