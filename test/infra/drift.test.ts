import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp, PROJECT_ROOT } from '../../infra/app.js';
import { driftCheckMinutes } from '../../infra/drift.js';
import { DRIFT_LEDGER_ACTIONS } from '../../infra/step-access.js';
import type { TagflowStack } from '../../infra/stack.js';
import { list, flat, type Json } from '../support/template.js';

/**
 * The scheduled drift check in the stack (issue 16): a schedule rule on the default bus invoking
 * the detect-drift function every 15 minutes (context driftCheckMinutes), whose role reads the
 * aliases (GetAlias only) and puts `Drift Detected` only; cdk-nag clean.
 */

const CONFIG = join(PROJECT_ROOT, 'test', 'infra', 'fixtures', 'lambda-targets.config.json');

function synth(context: Record<string, unknown> = {}) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [], config: CONFIG, ...context } });
  const stack = buildApp(app);
  return { app, stack, resources: Template.fromStack(stack).toJSON().Resources as Record<string, Json> };
}

const ofType = (resources: Record<string, Json>, type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
const fnIdOf = (resources: Record<string, Json>, step: string) => ofType(resources, 'AWS::Lambda::Function').find(([, r]) => r.Properties.Description === `tagflow step ${step}`)![0];
const scheduleRules = (resources: Record<string, Json>) => ofType(resources, 'AWS::Events::Rule').filter(([, r]) => r.Properties.ScheduleExpression !== undefined);

let app: App;
let stack: TagflowStack;
let resources: Record<string, Json>;
let synthError: unknown;
beforeAll(() => {
  ({ app, stack, resources } = synth());
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  try {
    app.synth();
  } catch (err) {
    synthError = err;
  }
});

describe('the scheduled drift check', () => {
  it('synthesises with no unacknowledged cdk-nag finding', () => {
    expect(synthError).toBeUndefined();
    const report = JSON.parse(readFileSync(join(app.outdir, 'validation-report.json'), 'utf8')) as { pluginReports: { violations?: unknown[] }[] };
    expect(report.pluginReports.flatMap((r) => r.violations ?? [])).toEqual([]);
  });

  it('invokes detect-drift every 15 minutes, with retries and the dead-letter queue', () => {
    const rules = scheduleRules(resources);
    expect(rules).toHaveLength(1);
    const [, rule] = rules[0]!;
    expect(rule.Properties.ScheduleExpression).toBe('rate(15 minutes)');
    expect(rule.Properties.EventBusName).toBeUndefined(); // schedules run on the default bus
    const fn = fnIdOf(resources, 'detect-drift');
    const [target] = rule.Properties.Targets;
    expect(flat(target.Arn)).toBe(`<${fn}.Arn>`);
    expect(target.RetryPolicy).toEqual({ MaximumEventAgeInSeconds: 900, MaximumRetryAttempts: 2 });
    expect(flat(target.DeadLetterConfig.Arn)).toBe(flat(stack.resolve(stack.triggers.deadLetterQueue.queueArn)));
    const permissions = ofType(resources, 'AWS::Lambda::Permission').filter(([, p]) => flat(p.Properties.FunctionName) === `<${fn}.Arn>`);
    expect(permissions.map(([, p]) => p.Properties.Principal)).toEqual(['events.amazonaws.com']);
  });

  it('its function reads environment items and the aliases, updates the drift mark, and may put Drift Detected only', () => {
    const fn = fnIdOf(resources, 'detect-drift');
    const roleId = resources[fn]!.Properties.Role['Fn::GetAtt'][0];
    const statements = ofType(resources, 'AWS::IAM::Policy')
      .filter(([, p]) => p.Properties.Roles.some((r: Json) => r.Ref === roleId))
      .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as Json[]);
    const actions = [...new Set(statements.flatMap((s) => list(s.Action)))].filter((a) => !/^(logs|xray):/.test(a)).sort();
    // The ledger: read an environment, update its drift mark; no PutItem, no Query, service partitions only.
    expect(actions).toEqual([...DRIFT_LEDGER_ACTIONS, 'events:PutEvents', 'lambda:GetAlias'].sort());
    const ledger = statements.filter((s) => list(s.Action).some((a) => a.startsWith('dynamodb:')));
    expect(ledger).toHaveLength(1);
    expect(ledger[0]!.Condition).toEqual({ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['SVC#*'] } });
    const put = statements.find((s) => list(s.Action).includes('events:PutEvents'))!;
    expect(put.Condition['ForAllValues:StringEquals']).toEqual({ 'events:source': ['tagflow'], 'events:detail-type': ['Drift Detected'] });
    const read = statements.find((s) => list(s.Action).includes('lambda:GetAlias'))!;
    expect(list(read.Resource).map(flat).every((r) => r.includes(':function:'))).toBe(true);
    expect(resources[fn]!.Properties.Environment.Variables.EVENT_BUS_NAME).toBeDefined();
  });

  it('context driftCheckMinutes changes the rate, 0 turns it off, and anything else is refused with the fix', () => {
    expect(scheduleRules(synth({ driftCheckMinutes: '60' }).resources).map(([, r]) => r.Properties.ScheduleExpression)).toEqual(['rate(1 hour)']);
    expect(scheduleRules(synth({ driftCheckMinutes: 0 }).resources)).toEqual([]);
    expect(driftCheckMinutes(() => undefined)).toBe(15);
    expect(driftCheckMinutes(() => '5')).toBe(5);
    expect(() => driftCheckMinutes(() => 'often')).toThrow(/context driftCheckMinutes: "often" is not a whole number of minutes from 0 to 1440; e.g. -c driftCheckMinutes=30, or 0/);
    expect(() => driftCheckMinutes(() => -5)).toThrow(/driftCheckMinutes/);
  });
});
