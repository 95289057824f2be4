import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp, PROJECT_ROOT } from '../../infra/app.js';
import type { TagflowStack } from '../../infra/stack.js';
import { flat, list, type Json, type Statement } from '../support/template.js';

/** The train machine in the synthesised stack (bundling skipped), for a config with a train. */

const NO_BUNDLING = { 'aws:cdk:bundling-stacks': [] };
const base = JSON.parse(readFileSync(join(PROJECT_ROOT, 'test', 'infra', 'fixtures', 'lambda-targets.config.json'), 'utf8')) as { services: Record<string, Json> };

function synth(trains: unknown): { app: App; stack: TagflowStack; resources: Record<string, Json>; error?: unknown } {
  const file = join(mkdtempSync(join(tmpdir(), 'tagflow-train-')), 'config.json');
  // A second service with checkout's environments, so the two can form a train.
  writeFileSync(file, JSON.stringify({ ...base, services: { ...base.services, payments: { ...structuredClone(base.services.checkout), triggers: { github: 'acme/payments' } } }, ...(trains ? { trains } : {}) }));
  const app = new App({ context: { ...NO_BUNDLING, config: file } });
  const stack = buildApp(app);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  let error: unknown;
  try {
    app.synth();
  } catch (err) {
    error = err;
  }
  return { app, stack, resources: Template.fromStack(stack).toJSON().Resources, error };
}

let withTrain: ReturnType<typeof synth>;
beforeAll(() => {
  withTrain = synth({ shop: { services: ['checkout', 'payments'] } });
});

describe('the train machine', () => {
  it('deploys train.asl.json with the release machine and the train step filled in, and outputs its ARN', () => {
    const { stack, resources } = withTrain;
    expect(stack.trains).toBeDefined();
    const subs = stack.resolve(stack.trains!.train.substitutions) as Record<string, unknown>;
    expect(Object.keys(subs).sort()).toEqual(['ReleaseStateMachineArn', 'TrainFnArn']);
    expect(flat(subs.ReleaseStateMachineArn)).toBe(`<${stack.getLogicalId(stack.release.machine.node.defaultChild as never)}>`);
    const outputs = Template.fromStack(stack).toJSON().Outputs as Json;
    expect(flat(outputs.TrainStateMachineArn.Value)).toBe(`<${stack.getLogicalId(stack.trains!.train.machine.node.defaultChild as never)}>`);
    expect(Object.values(resources).filter((r) => r.Type === 'AWS::StepFunctions::StateMachine')).toHaveLength(3);
  });

  it('may start only the release machine, describe and stop only its executions, and use only the .sync managed rule', () => {
    const { stack, resources } = withTrain;
    const roleId = stack.getLogicalId(stack.trains!.train.machine.role.node.defaultChild as never);
    const statements = Object.values(resources)
      .filter((r) => r.Type === 'AWS::IAM::Policy' && r.Properties.Roles.some((x: Json) => x.Ref === roleId))
      .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
    const on = (action: string) => statements.filter((s) => list(s.Action).includes(action)).flatMap((s) => list(s.Resource).map(flat));
    const release = stack.getLogicalId(stack.release.machine.node.defaultChild as never);
    expect(on('states:StartExecution')).toEqual([`<${release}>`]);
    expect(on('states:DescribeExecution')).toEqual([expect.stringMatching(new RegExp(`:execution:<${release}.Name>:\\*$`))]);
    expect(on('states:StopExecution')).toEqual(on('states:DescribeExecution'));
    for (const a of ['events:PutTargets', 'events:PutRule', 'events:DescribeRule']) expect(on(a)).toEqual([expect.stringMatching(/:rule\/StepFunctionsGetEventsForStepFunctionsExecutionRule$/)]);
    expect(on('lambda:InvokeFunction')).toHaveLength(1);
  });

  it('leaves cdk-nag with no unacknowledged finding', () => {
    expect(withTrain.error).toBeUndefined();
    const report = JSON.parse(readFileSync(join(withTrain.app.outdir, 'validation-report.json'), 'utf8')) as { pluginReports: { violations?: unknown[] }[] };
    expect(report.pluginReports.flatMap((r) => r.violations ?? [])).toEqual([]);
  });

  it('is not deployed when the config has no trains', () => {
    const { stack } = synth(undefined);
    expect(stack.trains).toBeUndefined();
    expect(Template.fromStack(stack).toJSON().Outputs.TrainStateMachineArn).toBeUndefined();
  });
});
