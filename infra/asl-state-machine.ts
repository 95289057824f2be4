import { Aws, Fn, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { DefinitionBody, LogLevel, StateMachine, StateMachineType } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { readAslFacts, type AslFacts } from './asl.js';
import { grantPutEvents, readAslPutEvents } from './event-grants.js';
import { acknowledgeWildcardResource } from './nag.js';

/**
 * The last group of the stack id's UUID (`arn:…:stack/NAME/1c2fa620-982a-11e3-aff7-50e2416294e0`
 * → `50e2416294e0`): fixed for the life of a stack, different for the next stack of that name.
 */
export const stackIdSuffix = (): string => Fn.select(4, Fn.split('-', Fn.select(2, Fn.split('/', Aws.STACK_ID))));

export interface AslStateMachineProps {
  /** The `.asl.json` file: deployed as it is, the `${…}` filled in by CloudFormation. */
  file: string;
  /** The functions the definition may name, by placeholder (`TestsGateFnArn` → the tests-gate function). */
  functions: ReadonlyMap<string, IFunction>;
  /** The bus `${EventBusName}` stands for, and the one `events:putEvents` tasks may put to. */
  eventBus: IEventBus;
  /** Other state machines the definition may name, by placeholder (`ReleaseStateMachineArn` → its ARN); the caller grants what it does with them. */
  machines?: ReadonlyMap<string, string>;
  /** @default three months */
  logRetention?: RetentionDays;
}

/**
 * A Standard state machine from an ASL file (the one definition the local runtime also runs),
 * with a substitution for exactly the placeholders the file uses: a placeholder with no value
 * fails synth here instead of deploying a definition with `${…}` left in it. Its role may invoke
 * only the functions the file names; it logs every event (without execution data: inputs carry
 * configs and commit details) and is traced with X-Ray.
 */
export class AslStateMachine extends Construct {
  readonly machine: StateMachine;
  readonly facts: AslFacts;
  readonly logGroup: LogGroup;
  /** The placeholders and what fills them, as given to CloudFormation. */
  readonly substitutions: Record<string, string>;

  constructor(scope: Construct, id: string, props: AslStateMachineProps) {
    super(scope, id);
    this.facts = readAslFacts(props.file);

    const invoked: IFunction[] = [];
    const substitutions: Record<string, string> = {};
    for (const name of [...this.facts.placeholders].sort()) {
      if (name === 'EventBusName') {
        substitutions[name] = props.eventBus.eventBusName;
        continue;
      }
      const machine = props.machines?.get(name);
      if (machine !== undefined) {
        substitutions[name] = machine;
        continue;
      }
      const fn = props.functions.get(name);
      if (!fn) {
        throw new Error(`${props.file} uses \${${name}}, which names no function of this stack (known: ${[...props.functions.keys(), 'EventBusName'].join(', ')})`);
      }
      substitutions[name] = fn.functionArn;
      invoked.push(fn);
    }
    this.substitutions = substitutions;

    // Under /aws/vendedlogs/ so Step Functions' log delivery does not grow the account's
    // CloudWatch Logs resource policy with one statement per group. The group is retained, so
    // its name ends with a part of the stack's id, new for each stack created: after `cdk
    // destroy`, the next `cdk deploy` makes a new group beside the old one instead of failing
    // with "already exists".
    this.logGroup = new LogGroup(this, 'Logs', {
      logGroupName: `/aws/vendedlogs/states/${Stack.of(this).stackName}-${id}-${stackIdSuffix()}`,
      retention: props.logRetention ?? RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.machine = new StateMachine(this, 'Machine', {
      stateMachineType: StateMachineType.STANDARD,
      definitionBody: DefinitionBody.fromFile(props.file),
      definitionSubstitutions: substitutions,
      logs: { destination: this.logGroup, level: LogLevel.ALL, includeExecutionData: false },
      tracingEnabled: true,
    });

    // Unqualified ARNs, as the definition names them: no `:*` for versions it never calls.
    if (invoked.length) {
      this.machine.addToRolePolicy(new PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: invoked.map((f) => f.functionArn) }));
    }
    if (this.facts.integrations.has('arn:aws:states:::events:putEvents')) grantPutEvents(this.machine, props.eventBus, readAslPutEvents(props.file));

    acknowledgeWildcardResource(
      this.machine.role,
      '*',
      'Step Functions logging (logs:CreateLogDelivery, GetLogDelivery, UpdateLogDelivery, DeleteLogDelivery, ListLogDeliveries, PutResourcePolicy, DescribeResourcePolicies, DescribeLogGroups) and X-Ray tracing (xray:PutTraceSegments, PutTelemetryRecords, GetSamplingRules, GetSamplingTargets) support no resource-level permissions.',
    );
  }
}
