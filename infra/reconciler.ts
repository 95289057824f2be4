import { Duration } from 'aws-cdk-lib';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { executionEndedRule, type FunctionRule } from '../lambdas/lib/event-rules.js';
import { grantStepAccess, type AccessResources, type StepAccess } from './step-access.js';
import { StepFunction } from './step-function.js';

/**
 * What the reconciler touches (lambdas/lib/reconcile.ts): the ledger (locks, the environment
 * state's canary, the outcome), the deploy targets' alias weights only (`shift`: UpdateAlias,
 * to put all traffic back on the baseline), and `Release Aborted` on the pipeline bus.
 */
export const RECONCILE_ACCESS: StepAccess = { ledger: true, targets: ['shift'], events: ['Release Aborted'] };

export interface ReconcilerProps {
  projectRoot: string;
  /** The machines whose ended executions it reconciles. */
  machines: readonly IStateMachine[];
  access: AccessResources;
  /** The environment every step gets (LEDGER_TABLE, LOCK_TTL_MS…). */
  environment: Record<string, string>;
}

/**
 * The reconciler function and the rule that invokes it (`execution-ended`, defined in
 * lambdas/lib/event-rules.ts with the machines' ARNs): the stack's Triggers deploy the rule
 * with the same retries and dead-letter queue as the rules that start the machines.
 */
export class Reconciler extends Construct {
  readonly fn: StepFunction;
  readonly rule: FunctionRule;

  constructor(scope: Construct, id: string, props: ReconcilerProps) {
    super(scope, id);
    this.fn = new StepFunction(this, 'Fn', {
      step: 'reconcile',
      projectRoot: props.projectRoot,
      // One execution's environments and services: a few ledger queries and at most one UpdateAlias per canary.
      timeout: Duration.seconds(60),
      environment: { ...props.environment, EVENT_BUS_NAME: props.access.bus.eventBusName },
    });
    grantStepAccess(this.fn, this.fn.role!, RECONCILE_ACCESS, props.access);
    this.rule = executionEndedRule(props.machines.map((m) => m.stateMachineArn));
  }

  /** For Triggers: the rule and its function target. */
  get target(): { rule: FunctionRule; fn: IFunction } {
    return { rule: this.rule, fn: this.fn };
  }
}
