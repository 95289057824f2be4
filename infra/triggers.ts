import { Duration } from 'aws-cdk-lib';
import { EventBus, Rule, type EventPattern as CdkEventPattern, type IEventBus } from 'aws-cdk-lib/aws-events';
import { LambdaFunction, SfnStateMachine } from 'aws-cdk-lib/aws-events-targets';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { EventRule, FunctionRule } from '../lambdas/lib/event-rules.js';
import { acknowledge } from './nag.js';

export interface TriggersProps {
  /** Where `tagflow` events (Tag Pushed from CI or the webhook receiver) arrive. */
  pipelineBus: IEventBus;
  /** The account's default bus, where AWS services put their events. */
  defaultBus: IEventBus;
  /** The rules to deploy (`eventRules(config)`, the same data the local runtime matches against). */
  rules: readonly EventRule[];
  machines: { release: IStateMachine; rollback?: IStateMachine };
  /** Rules whose target is a function (the reconciler's `execution-ended`), with the same retries and dead-letter queue. */
  functionRules?: readonly { rule: FunctionRule; fn: IFunction }[];
  /** How often EventBridge retries starting an execution. @default 8 */
  retryAttempts?: number;
  /** How long it keeps retrying before the event goes to the dead-letter queue. @default 2 hours */
  maxEventAge?: Duration;
}

/** CDK's EventPattern spells `detail-type` as `detailType`; the rest of the top level is the same. */
const TOP_LEVEL: Record<string, keyof CdkEventPattern> = {
  version: 'version',
  id: 'id',
  'detail-type': 'detailType',
  source: 'source',
  account: 'account',
  time: 'time',
  region: 'region',
  resources: 'resources',
  detail: 'detail',
};

export function toCdkPattern(rule: Pick<EventRule, 'name' | 'pattern'>): CdkEventPattern {
  const out: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(rule.pattern)) {
    const key = TOP_LEVEL[field];
    if (!key) throw new Error(`event rule ${rule.name}: top-level field "${field}" cannot be deployed through the CDK's EventPattern (known: ${Object.keys(TOP_LEVEL).join(', ')})`);
    out[key] = value;
  }
  return out as CdkEventPattern;
}

/** The rule's sources, if they are all plain strings. */
function sourcesOf(rule: Pick<EventRule, 'pattern'>): string[] {
  const source = rule.pattern.source;
  return Array.isArray(source) ? source.filter((s): s is string => typeof s === 'string') : [];
}

/**
 * AWS services (aws.ecr, aws.codecommit, aws.cloudwatch) put their events on the account's
 * default bus only, so a rule for them must live there; a rule for them on the pipeline bus
 * would never fire. Our own `tagflow` events go to the pipeline bus, where CI and the webhook
 * receiver put them, which keeps them apart from everything else on the default bus.
 */
export function busFor(rule: Pick<EventRule, 'name' | 'pattern'>): 'default' | 'pipeline' {
  const sources = sourcesOf(rule);
  const aws = sources.filter((s) => s.startsWith('aws.'));
  if (aws.length && aws.length !== sources.length) {
    throw new Error(`event rule ${rule.name} mixes AWS sources (${aws.join(', ')}) with others; AWS events arrive on the default bus, ours on the pipeline bus: split it in two`);
  }
  return aws.length ? 'default' : 'pipeline';
}

/**
 * The EventBridge rules that start the machines, each with its state machine as target and a
 * shared dead-letter queue for events EventBridge could not deliver (StartExecution refused or
 * throttled past the retries): a trigger is never dropped silently.
 */
export class Triggers extends Construct {
  readonly deadLetterQueue: Queue;
  readonly rules = new Map<string, Rule>();
  /** Rules not deployed, with why (e.g. the rollback machine does not exist yet). */
  readonly skipped: { rule: string; reason: string }[] = [];

  constructor(scope: Construct, id: string, props: TriggersProps) {
    super(scope, id);
    this.deadLetterQueue = new Queue(this, 'DeadLetters', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    acknowledge(this.deadLetterQueue, 'AwsSolutions-SQS3', 'This queue is itself the dead-letter queue of the EventBridge rule targets; nothing redrives from it automatically.');

    for (const rule of props.rules) {
      const machine = props.machines[rule.machine];
      if (!machine) {
        this.skipped.push({ rule: rule.name, reason: `no ${rule.machine} state machine in this stack` });
        continue;
      }
      const deployed = new Rule(this, rule.name, {
        eventBus: busFor(rule) === 'default' ? props.defaultBus : props.pipelineBus,
        description: rule.description.slice(0, 512),
        eventPattern: toCdkPattern(rule),
        targets: [
          new SfnStateMachine(machine, {
            deadLetterQueue: this.deadLetterQueue,
            retryAttempts: props.retryAttempts ?? 8,
            maxEventAge: props.maxEventAge ?? Duration.hours(2),
          }),
        ],
      });
      this.rules.set(rule.name, deployed);
    }

    // A function target: EventBridge invokes it asynchronously; an event it could not deliver
    // (or Lambda refused) after the retries goes to the same dead-letter queue.
    for (const { rule, fn } of props.functionRules ?? []) {
      const deployed = new Rule(this, rule.name, {
        eventBus: busFor(rule) === 'default' ? props.defaultBus : props.pipelineBus,
        description: rule.description.slice(0, 512),
        eventPattern: toCdkPattern(rule),
        targets: [
          new LambdaFunction(fn, {
            deadLetterQueue: this.deadLetterQueue,
            retryAttempts: props.retryAttempts ?? 8,
            maxEventAge: props.maxEventAge ?? Duration.hours(2),
          }),
        ],
      });
      this.rules.set(rule.name, deployed);
    }
  }
}

/** The pipeline's own bus: a dedicated bus (named after the stack by default), or the account's default bus. */
export function pipelineBus(scope: Construct, options: { useDefaultBus: boolean; busName: string }): { bus: IEventBus; defaultBus: IEventBus } {
  const defaultBus = EventBus.fromEventBusName(scope, 'DefaultBus', 'default');
  if (options.useDefaultBus) return { bus: defaultBus, defaultBus };
  return { bus: new EventBus(scope, 'PipelineBus', { eventBusName: options.busName, description: 'tagflow: release triggers (Tag Pushed) and release events (Release Started, Stage Promoted, …)' }), defaultBus };
}
