import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp, PROJECT_ROOT } from '../../infra/app.js';
import type { TagflowStack } from '../../infra/stack.js';
import { list, type Json, type Statement } from '../support/template.js';

/**
 * The release managers' policy (`CliPolicyArn`): what `tagflow … --stack` calls, and no write to
 * the ledger (freezes go through the approval URL).
 */

const CONFIG = join(PROJECT_ROOT, 'test', 'infra', 'fixtures', 'lambda-targets.config.json');
let stack: TagflowStack;
let resources: Record<string, Json>;
let outputs: Record<string, Json>;

beforeAll(() => {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [], config: CONFIG } });
  stack = buildApp(app);
  const template = Template.fromStack(stack).toJSON();
  resources = template.Resources;
  outputs = template.Outputs;
});

describe('the CLI policy', () => {
  const statements = () => {
    const id = stack.getLogicalId(stack.cliAccess.policy.node.defaultChild as never);
    return resources[id]!.Properties.PolicyDocument.Statement as (Statement & { Sid: string })[];
  };
  const bySid = (sid: string) => statements().find((s) => s.Sid === sid)!;
  const ref = (construct: { node: { defaultChild?: unknown } }) => ({ Ref: stack.getLogicalId(construct.node.defaultChild as never) });

  it('is an output, for release managers to attach', () => {
    expect(outputs.CliPolicyArn!.Value).toEqual(ref(stack.cliAccess.policy as never));
  });

  it('grants exactly what the stack backend calls', () => {
    const actions = statements().flatMap((s) => list(s.Action)).sort();
    expect(actions).toEqual([
      'cloudformation:DescribeStacks',
      'cloudwatch:GetMetricData',
      'dynamodb:GetItem',
      'dynamodb:Query',
      'events:PutEvents',
      'states:DescribeExecution',
      'states:GetExecutionHistory',
      'states:StartExecution',
    ]);
  });

  it('writes nothing to the ledger, and puts only tagflow events', () => {
    const writes = statements().filter((s) => list(s.Action).some((a) => /^dynamodb:(Put|Update|Delete|Batch|Transact)/.test(a)));
    expect(writes).toEqual([]);
    expect(bySid('PutTriggerEvents').Condition).toEqual({ 'ForAllValues:StringEquals': { 'events:source': ['tagflow'], 'events:detail-type': ['Tag Pushed'] }, Null: { 'events:source': 'false', 'events:detail-type': 'false' } });
  });

  it('starts only this stack\'s two machines', () => {
    expect(list(bySid('StartExecutions').Resource)).toEqual([ref(stack.release.machine as never), ref(stack.rollback!.machine as never)]);
  });
});
