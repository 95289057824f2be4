import { CfnOutput, Duration } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { ManagedPolicy, Policy, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { type CfnFunction, FunctionUrlAuthType, type FunctionUrl } from 'aws-cdk-lib/aws-lambda';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { LEDGER_ACTIONS } from './step-access.js';
import { StepFunction } from './step-function.js';

/** The most concurrent executions of the approval function. */
export const APPROVALS_RESERVED_CONCURRENCY = 3;

export interface ApprovalFunctionProps {
  projectRoot: string;
  table: ITable;
  /** The pipeline config file, shipped in the function's code. */
  configFile: string;
}

/**
 * Where approvers approve or reject an emergency release, or promote or roll back a held
 * canary (the same decision, approval-kinds.ts): a function URL with AWS_IAM auth,
 * so the approver is the IAM identity that signed the request (never a field of the body).
 * `Approvers` is the managed policy to attach to the people (users or roles) who approve.
 */
export class ApprovalFunction extends Construct {
  readonly fn: StepFunction;
  readonly url: FunctionUrl;
  readonly approvers: ManagedPolicy;

  constructor(scope: Construct, id: string, props: ApprovalFunctionProps) {
    super(scope, id);
    this.fn = new StepFunction(this, 'Fn', {
      step: 'decide-approval',
      projectRoot: props.projectRoot,
      timeout: Duration.seconds(15),
      memorySize: 256,
      environment: { LEDGER_TABLE: props.table.tableName },
      configFile: props.configFile,
    });
    // AWS_IAM refuses unsigned and unauthorised calls before the function runs; what is left
    // (callers with the Approvers policy, a script gone wrong) is capped, so it cannot starve
    // the steps or the account, and the steps cannot starve it. Approvers are a few people.
    (this.fn.node.defaultChild as CfnFunction).reservedConcurrentExecutions = APPROVALS_RESERVED_CONCURRENCY;
    this.fn.addToRolePolicy(new PolicyStatement({ actions: LEDGER_ACTIONS, resources: [props.table.tableArn] }));
    this.url = this.fn.addFunctionUrl({ authType: FunctionUrlAuthType.AWS_IAM });

    // Function URLs need both actions; the condition keeps InvokeFunction to calls through the
    // URL, so nobody can invoke the function directly with a made-up identity in the event.
    this.approvers = new ManagedPolicy(this, 'Approvers', {
      description: 'tagflow: may approve or reject emergency releases and promote or roll back held canaries through the approval URL (the caller must also be in policy.approvers)',
      statements: [
        new PolicyStatement({ actions: ['lambda:InvokeFunctionUrl'], resources: [this.fn.functionArn], conditions: { StringEquals: { 'lambda:FunctionUrlAuthType': 'AWS_IAM' } } }),
        new PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [this.fn.functionArn], conditions: { Bool: { 'lambda:InvokedViaFunctionUrl': 'true' } } }),
      ],
    });

    new CfnOutput(scope, 'ApprovalUrl', { value: this.url.url, description: 'Approvers POST {"service","version","environment","decision":"approve"|"reject"} (a held canary: "promote"|"rollback") here, signed with SigV4 (awscurl --service lambda)' });
    new CfnOutput(scope, 'ApproversPolicyArn', { value: this.approvers.managedPolicyArn, description: 'Attach to the IAM users or roles of the people in policy.approvers' });
  }

  /**
   * Lets the function answer the release machine's waiting tasks (SendTaskSuccess/Failure on
   * that machine only). A Policy of its own, not the role's default policy: the function
   * depends on its role's default policy, the machine's definition names the function that
   * requests approvals, and that function's APPROVAL_URL names this function's URL; a
   * statement naming the machine in the default policy would close that loop.
   */
  answerTasksOf(machine: IStateMachine): Policy {
    return new Policy(this, 'AnswerTasks', {
      roles: [this.fn.role!],
      statements: [new PolicyStatement({ actions: ['states:SendTaskSuccess', 'states:SendTaskFailure'], resources: [machine.stateMachineArn] })],
    });
  }
}
