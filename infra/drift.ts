import { Duration } from 'aws-cdk-lib';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/** How often the drift check runs unless context `driftCheckMinutes` says otherwise. */
export const DEFAULT_DRIFT_CHECK_MINUTES = 15;

/**
 * Context `driftCheckMinutes`: minutes between drift checks, a whole number; 0 turns the
 * schedule off (`tagflow drift` still checks on demand).
 */
export function driftCheckMinutes(context: (key: string) => unknown): number {
  const raw = context('driftCheckMinutes');
  if (raw === undefined) return DEFAULT_DRIFT_CHECK_MINUTES;
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
  if (!Number.isInteger(n) || n < 0 || n > 1440) {
    throw new Error(`context driftCheckMinutes: "${String(raw)}" is not a whole number of minutes from 0 to 1440; e.g. -c driftCheckMinutes=30, or 0 to turn the scheduled drift check off`);
  }
  return n;
}

export interface DriftCheckProps {
  /** The detect-drift step's function. */
  fn: IFunction;
  minutes: number;
  /** Where an invocation EventBridge could not deliver goes (the triggers' queue, alarmed). */
  deadLetterQueue: IQueue;
}

/**
 * The scheduled drift check: a rule on the default bus (schedules live there) that invokes
 * detect-drift every `minutes`. A check that fails is not retried for long: the next one
 * comes soon and compares afresh.
 */
export class DriftCheck extends Construct {
  readonly rule: Rule;

  constructor(scope: Construct, id: string, props: DriftCheckProps) {
    super(scope, id);
    this.rule = new Rule(this, 'Schedule', {
      description: `tagflow: compares what serves with the ledger every ${props.minutes} minute(s); a difference puts Drift Detected and marks the environment`,
      schedule: Schedule.rate(Duration.minutes(props.minutes)),
      targets: [new LambdaFunction(props.fn, { deadLetterQueue: props.deadLetterQueue, retryAttempts: 2, maxEventAge: Duration.minutes(props.minutes) })],
    });
  }
}
