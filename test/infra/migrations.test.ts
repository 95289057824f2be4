import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp, PROJECT_ROOT } from '../../infra/app.js';
import { flat, list, type Json, type Statement } from '../support/template.js';

/** The migrate step's role in the synthesised stack (bundling skipped) for a config whose staging migrates (issue 16). */

const base = JSON.parse(readFileSync(join(PROJECT_ROOT, 'test', 'infra', 'fixtures', 'lambda-targets.config.json'), 'utf8')) as { services: Record<string, Json> };

let resources: Record<string, Json>;
beforeAll(() => {
  const checkout = structuredClone(base.services.checkout!);
  checkout.environments[1].migrations = [
    { type: 'invoke', function: 'checkout-migrate-{environment}', phase: 'expand' },
    { type: 'invoke', function: 'arn:aws:lambda:eu-west-1:111122223333:function:checkout-contract', phase: 'contract' },
  ];
  const file = join(mkdtempSync(join(tmpdir(), 'tagflow-migrations-')), 'config.json');
  writeFileSync(file, JSON.stringify({ ...base, services: { ...base.services, checkout }, policy: { approvers: ['arn:aws:iam::111122223333:user/alice', 'arn:aws:iam::111122223333:user/bob'] } }));
  const stack = buildApp(new App({ context: { 'aws:cdk:bundling-stacks': [], config: file } }));
  resources = Template.fromStack(stack).toJSON().Resources;
});

const statementsOf = (step: string): Statement[] => {
  const fn = Object.values(resources).find((r) => r.Type === 'AWS::Lambda::Function' && r.Properties.Description === `tagflow step ${step}`);
  const role = fn!.Properties.Role['Fn::GetAtt'][0];
  return Object.values(resources)
    .filter((r) => r.Type === 'AWS::IAM::Policy' && r.Properties.Roles.some((x: Json) => x.Ref === role))
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
};

describe('the migrate step', () => {
  it('may invoke the configured migration functions (and their versions) and no other Lambda', () => {
    const invoke = statementsOf('migrate').filter((s) => list(s.Action).some((a) => a.startsWith('lambda:')));
    expect(invoke.flatMap((s) => list(s.Action))).toEqual(['lambda:InvokeFunction']);
    const arns = invoke.flatMap((s) => list(s.Resource).map((r) => flat(r)));
    expect(arns.some((a) => a.endsWith(':function:checkout-migrate-staging'))).toBe(true);
    expect(arns).toContain('arn:aws:lambda:eu-west-1:111122223333:function:checkout-contract');
    expect(arns).toContain('arn:aws:lambda:eu-west-1:111122223333:function:checkout-contract:*');
    expect(arns).toHaveLength(4);
    expect(arns.filter((a) => /checkout-(dev|staging|live)$|demo-/.test(a))).toEqual([]);
  });

  it('is the only step that may invoke them', () => {
    for (const r of Object.values(resources).filter((x) => x.Type === 'AWS::Lambda::Function')) {
      const step = String(r.Properties.Description ?? '').replace('tagflow step ', '');
      if (step === 'migrate' || !r.Properties.Description?.startsWith('tagflow step ')) continue;
      const arns = statementsOf(step).flatMap((s) => list(s.Resource).map((x) => flat(x)));
      expect(arns.filter((a) => /checkout-(migrate|contract)/.test(a)), step).toEqual([]);
    }
  });
});
