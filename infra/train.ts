import { ArnFormat, Stack } from 'aws-cdk-lib';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { AslStateMachine } from './asl-state-machine.js';
import { acknowledgeWildcardResource } from './nag.js';

export interface ReleaseTrainsProps {
  /** state-machines/train.asl.json */
  file: string;
  functions: ReadonlyMap<string, IFunction>;
  eventBus: IEventBus;
  /** The release machine each member's leg runs as a child execution. */
  release: StateMachine;
}

/**
 * The release-train machine: one execution per train release, whose members' legs are
 * executions of the release machine (`states:startExecution.sync:2`). Its role may start only
 * that machine, describe and stop only its executions, and touch only the managed rule through
 * which Step Functions learns that a child ended.
 */
export class ReleaseTrains extends Construct {
  readonly train: AslStateMachine;

  constructor(scope: Construct, id: string, props: ReleaseTrainsProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.train = new AslStateMachine(this, 'Train', {
      file: props.file,
      functions: props.functions,
      eventBus: props.eventBus,
      machines: new Map([['ReleaseStateMachineArn', props.release.stateMachineArn]]),
    });
    const role = this.train.machine;
    role.addToRolePolicy(new PolicyStatement({ actions: ['states:StartExecution'], resources: [props.release.stateMachineArn] }));
    const executions = stack.formatArn({ service: 'states', resource: 'execution', resourceName: `${props.release.stateMachineName}:*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    role.addToRolePolicy(new PolicyStatement({ actions: ['states:DescribeExecution', 'states:StopExecution'], resources: [executions] }));
    acknowledgeWildcardResource(this.train.machine.role, executions, 'The executions of this stack\'s release machine that the train starts: their names are known only when it runs (.sync describes them; stopping the train stops them).');
    // .sync waits on this Step Functions-managed rule for the child's end.
    const rule = stack.formatArn({ service: 'events', resource: 'rule', resourceName: 'StepFunctionsGetEventsForStepFunctionsExecutionRule' });
    role.addToRolePolicy(new PolicyStatement({ actions: ['events:PutTargets', 'events:PutRule', 'events:DescribeRule'], resources: [rule] }));
  }
}
