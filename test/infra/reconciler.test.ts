import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp, PROJECT_ROOT } from '../../infra/app.js';
import { SHIFT_ACTIONS, LEDGER_ACTIONS } from '../../infra/step-access.js';
import type { TagflowStack } from '../../infra/stack.js';
import { list, flat, type Json } from '../support/template.js';

/**
 * The reconciler in the stack: its function (granted the ledger, the deploy targets' alias
 * weights and `Release Aborted` only), and the `execution-ended` rule on the default bus for
 * both machines' executions, with retries and the triggers' dead-letter queue.
 */


let app: App;
let stack: TagflowStack;
let resources: Record<string, Json>;
let synthError: unknown;
const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);

beforeAll(() => {
  app = new App({ context: { 'aws:cdk:bundling-stacks': [], config: join(PROJECT_ROOT, 'test', 'infra', 'fixtures', 'lambda-targets.config.json') } });
  stack = buildApp(app);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  try {
    app.synth();
  } catch (err) {
    synthError = err;
  }
  resources = Template.fromStack(stack).toJSON().Resources;
});

const reconcilerId = () => {
  const found = ofType('AWS::Lambda::Function').find(([, r]) => r.Properties.Description === 'tagflow step reconcile');
  if (!found) throw new Error('no reconciler function');
  return found[0];
};
const statements = () => {
  const roleId = resources[reconcilerId()]!.Properties.Role['Fn::GetAtt'][0];
  return ofType('AWS::IAM::Policy')
    .filter(([, p]) => p.Properties.Roles.some((r: Json) => r.Ref === roleId))
    .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as Json[]);
};

describe('reconciler', () => {
  it('synthesises with no unacknowledged cdk-nag finding', () => {
    expect(synthError).toBeUndefined();
    const report = JSON.parse(readFileSync(join(app.outdir, 'validation-report.json'), 'utf8')) as { pluginReports: { violations?: unknown[] }[] };
    expect(report.pluginReports.flatMap((r) => r.violations ?? [])).toEqual([]);
  });

  it('is invoked by a rule on the default bus for ABORTED, TIMED_OUT and FAILED executions of both machines, with retries and the dead-letter queue', () => {
    const rules = ofType('AWS::Events::Rule').filter(([, r]) => r.Properties.EventPattern?.source?.includes('aws.states'));
    expect(rules).toHaveLength(1);
    const [, rule] = rules[0]!;
    expect(rule.Properties.EventBusName).toBe('default'); // where Step Functions puts its events
    const pattern = rule.Properties.EventPattern;
    expect(pattern['detail-type']).toEqual(['Step Functions Execution Status Change']);
    expect(pattern.detail.status).toEqual(['ABORTED', 'TIMED_OUT', 'FAILED']);
    const machines = ofType('AWS::StepFunctions::StateMachine').map(([id]) => `<${id}>`).sort();
    expect(pattern.detail.stateMachineArn.map(flat).sort()).toEqual(machines);
    expect(machines).toHaveLength(2);
    const [target] = rule.Properties.Targets;
    expect(flat(target.Arn)).toBe(`<${reconcilerId()}.Arn>`);
    expect(target.RetryPolicy).toEqual({ MaximumEventAgeInSeconds: 7200, MaximumRetryAttempts: 8 });
    expect(flat(target.DeadLetterConfig.Arn)).toBe(flat(stack.resolve(stack.triggers.deadLetterQueue.queueArn)));
    const permissions = ofType('AWS::Lambda::Permission').filter(([, p]) => flat(p.Properties.FunctionName) === `<${reconcilerId()}.Arn>`);
    expect(permissions.map(([, p]) => p.Properties.Principal)).toEqual(['events.amazonaws.com']);
  });

  it('may touch the ledger, move the deploy targets\' alias weights (UpdateAlias only) and put Release Aborted; nothing else', () => {
    const s = statements();
    const actions = [...new Set(s.flatMap((x) => list(x.Action)))].sort();
    // Beside its own log group and X-Ray, which every step function has.
    // And sending a failed event to the triggers' dead-letter queue (its async on-failure destination).
    const sqs = ['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage'];
    expect(actions).toEqual([...LEDGER_ACTIONS, ...SHIFT_ACTIONS, ...sqs, 'events:PutEvents', 'logs:CreateLogStream', 'logs:PutLogEvents', 'xray:PutTelemetryRecords', 'xray:PutTraceSegments'].sort());
    const send = s.find((x) => list(x.Action).includes('sqs:SendMessage'))!;
    expect(list(send.Resource).map(flat)).toEqual([flat(stack.resolve(stack.triggers.deadLetterQueue.queueArn))]);
    const put = s.find((x) => list(x.Action).includes('events:PutEvents'))!;
    expect(put.Condition['ForAllValues:StringEquals']).toEqual({ 'events:source': ['tagflow'], 'events:detail-type': ['Release Aborted'] });
    const shift = s.find((x) => list(x.Action).includes('lambda:UpdateAlias'))!;
    expect(list(shift.Resource).map(flat).every((r) => r.includes(':function:'))).toBe(true);
    const env = resources[reconcilerId()]!.Properties.Environment.Variables;
    expect(Object.keys(env)).toEqual(expect.arrayContaining(['LEDGER_TABLE', 'EVENT_BUS_NAME', 'LOCK_TTL_MS']));
  });

  it('never fails unseen: an event it still fails on after retries goes to the dead-letter queue, and its first error alarms', () => {
    const [, invokeConfig] = ofType('AWS::Lambda::EventInvokeConfig').find(([, c]) => flat(c.Properties.FunctionName) === `<${reconcilerId()}>`)!;
    expect(invokeConfig.Properties.MaximumRetryAttempts).toBe(2);
    expect(flat(invokeConfig.Properties.DestinationConfig.OnFailure.Destination)).toBe(flat(stack.resolve(stack.triggers.deadLetterQueue.queueArn)));
    const alarms = ofType('AWS::CloudWatch::Alarm').filter(([, a]) => (a.Properties.Dimensions as Json[] | undefined)?.some((d) => flat(d.Value) === `<${reconcilerId()}>`));
    expect(alarms.map(([, a]) => [a.Properties.MetricName, a.Properties.EvaluationPeriods, a.Properties.Threshold])).toEqual([['Errors', 1, 1]]);
    expect(alarms[0]![1].Properties.AlarmActions).toHaveLength(1);
  });

  it('the release machine waits for a lock at least as long as the stack\'s lock lives', () => {
    const ttlMs = Number(resources[reconcilerId()]!.Properties.Environment.Variables.LOCK_TTL_MS);
    const asl = JSON.parse(readFileSync(join(PROJECT_ROOT, 'state-machines', 'release.asl.json'), 'utf8'));
    const retry = (asl.States['Acquire environment lock'].Retry as Json[]).find((r) => r.ErrorEquals.includes('ReleaseLocked'))!;
    let waited = 0;
    for (let i = 0; i < retry.MaxAttempts; i++) waited += retry.IntervalSeconds * (retry.BackoffRate ?? 2) ** i;
    expect(waited * 1000).toBeGreaterThanOrEqual(ttlMs);
  });
});
