import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseConfig, parseConfigText } from '../../lambdas/lib/config.js';
import { DEPLOY_CHECKS, deployProblems, NotDeployable, type DeployCheck } from '../../lambdas/lib/deployable.js';

/** The deploy-only checks on their own (pure); test/infra/deploy-checks.test.ts shows synth refusing. */

const read = (path: string) => parseConfigText(readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8'), path);
const lambda = (functionName: string, extra: Record<string, unknown> = {}) => ({ type: 'lambda-alias', functionName, ...extra });
const config = (services: Record<string, unknown>) => parseConfig({ services });

describe('local targets', () => {
  it('the demo config cannot deploy: its service target is local, named once for the environments that inherit it', () => {
    const problems = deployProblems(read('examples/tagflow.config.json'));
    expect(problems).toHaveLength(1);
    expect(problems[0]!.field).toBe('services.demo.target');
    expect(problems[0]!.problem).toMatch(/^type "local" .*runs only in the local runtime.*demo's dev, staging, prod would deploy nothing in AWS/);
    expect(problems[0]!.problem).toMatch(/"lambda-alias" target.*cdk deploy -c config=FILE/);
  });

  it('names the environment whose own target is local, and a service that names no target (local by default)', () => {
    const problems = deployProblems(
      config({
        api: { target: lambda('api-{environment}'), environments: [{ name: 'dev' }, { name: 'staging' }, { name: 'prod', target: { type: 'local' } }] },
        web: { environments: [{ name: 'dev' }] },
      }),
    );
    expect(problems.map((p) => p.field)).toEqual(['services.api.environments[2].target', 'services.web.target']);
    expect(problems[0]!.problem).toContain("api's prod would deploy nothing");
  });

  it('the AWS example and the infra fixture have none', () => {
    expect(deployProblems(read('examples/aws.config.json'), { region: 'eu-west-1' })).toEqual([]);
    expect(deployProblems(read('test/infra/fixtures/lambda-targets.config.json'), { region: 'eu-west-1' })).toEqual([]);
  });
});

describe('target regions', () => {
  const fixture = () => read('test/infra/fixtures/lambda-targets.config.json');

  it('refuse a function ARN in another region than the stack, naming the field and both regions', () => {
    const problems = deployProblems(fixture(), { region: 'us-east-1' });
    expect(problems).toEqual([
      {
        field: 'services.checkout.environments[2].target.functionName',
        problem: expect.stringMatching(/names a function in eu-west-1 \(for checkout's prod\), but the stack deploys to us-east-1.*deploy the stack to eu-west-1.*or name a function in us-east-1/),
      },
    ]);
  });

  it('refuse an image repository in another region than its function', () => {
    const problems = deployProblems(
      config({ api: { target: lambda('api-{environment}', { imageRepository: '111122223333.dkr.ecr.us-west-2.amazonaws.com/{service}' }), environments: [{ name: 'dev' }, { name: 'prod' }] } }),
      { region: 'eu-west-1' },
    );
    expect(problems).toEqual([
      { field: 'services.api.target.imageRepository', problem: expect.stringMatching(/^is in us-west-2 \(for api's dev, prod\), but the function is in eu-west-1; Lambda deploys an image only from an ECR repository in the function's own region/) },
    ]);
  });

  it('accept names (they resolve in the stack region) and ARNs in the stack region', () => {
    const c = config({ api: { target: lambda('api-{environment}'), environments: [{ name: 'dev' }, { name: 'prod', target: lambda('arn:aws:lambda:eu-west-1:111122223333:function:api-live') }] } });
    expect(deployProblems(c, { region: 'eu-west-1' })).toEqual([]);
  });

  it('are skipped when synth does not know the region (an env-agnostic stack)', () => {
    expect(deployProblems(fixture(), {})).toEqual([]);
  });
});

describe('the stack\'s own alarms', () => {
  it('may not be listed as a service\'s alarms', () => {
    const c = config({ api: { target: lambda('api'), environments: [{ name: 'prod', alarms: ['api-5xx', 'Tagflow-release-executions-failed'] }] } });
    const problems = deployProblems(c, { ownAlarmNames: ['Tagflow-release-executions-failed', 'Tagflow-trigger-dead-letters'] });
    expect(problems).toEqual([{ field: 'services.api.environments[0].alarms[1]', problem: expect.stringContaining('is one of the alarms the stack puts on the pipeline itself') }]);
  });
});

describe('approvers', () => {
  const withApprovers = (approvers: string[]) => parseConfig({ services: { api: { target: lambda('api'), environments: [{ name: 'prod' }] } }, policy: { approvers } });
  const alice = 'arn:aws:iam::111122223333:user/alice';
  const bob = 'arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Approvers_0123456789abcdef/bob@acme.io';

  it('must be principal ARNs in AWS: a bare name, which only the local runtime accepts, is refused', () => {
    expect(deployProblems(withApprovers([alice, 'bob']))).toEqual([{ field: 'policy.approvers[1]', problem: expect.stringContaining('"bob" is a bare name, which identifies an approver only in the local runtime') }]);
    expect(deployProblems(withApprovers([alice, bob]))).toEqual([]);
  });

  it('must be in the stack\'s account when synth knows it', () => {
    const other = ['arn:aws:iam::999999999999:user/alice', 'arn:aws:iam::999999999999:user/carol'];
    expect(deployProblems(withApprovers(other), { account: '111122223333' }).map((p) => p.field)).toEqual(['policy.approvers[0]', 'policy.approvers[1]']);
    expect(deployProblems(withApprovers(other))).toEqual([]);
  });

  it('of an environment\'s sign-off (approval.from) are held to the same: principal ARNs of the stack\'s account', () => {
    const c = parseConfig({ services: { api: { target: lambda('api'), environments: [{ name: 'dev' }, { name: 'prod', approval: { from: [alice, 'dave'] } }] } } });
    expect(deployProblems(c)).toEqual([{ field: 'services.api.environments[1].approval.from[1]', problem: expect.stringContaining('"dave" is a bare name') }]);
    const foreign = parseConfig({ services: { api: { target: lambda('api'), environments: [{ name: 'prod', approval: { from: ['arn:aws:iam::999999999999:user/erin'] } }] } } });
    expect(deployProblems(foreign, { account: '111122223333' }).map((p) => p.field)).toEqual(['services.api.environments[0].approval.from[0]']);
  });
});

describe('deployProblems', () => {
  it('runs every check in DEPLOY_CHECKS in order, and takes further checks', () => {
    expect(DEPLOY_CHECKS.length).toBeGreaterThanOrEqual(3);
    const demo = read('examples/tagflow.config.json');
    const extra: DeployCheck = (c) => (c.policy ? [] : [{ field: 'policy', problem: 'say who approves' }]);
    expect(deployProblems(demo, {}, [...DEPLOY_CHECKS, extra]).map((p) => p.field)).toEqual(['services.demo.target', 'policy']);
  });

  it('NotDeployable lists each field with its problem and names the file', () => {
    const err = new NotDeployable([{ field: 'services.demo.target', problem: 'type "local" …' }], 'examples/tagflow.config.json');
    expect(err.name).toBe('NotDeployable');
    expect(err.message).toBe('examples/tagflow.config.json cannot be deployed to AWS: services.demo.target: type "local" …');
  });
});
