import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import {
  CreateAliasCommand,
  GetAliasCommand,
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  LambdaClient,
  PublishVersionCommand,
  ResourceNotFoundException,
  UpdateAliasCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
} from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { CloudWatchMetrics } from '../../lambdas/adapters/cloudwatch-metrics.js';
import { LambdaAliasTarget } from '../../lambdas/adapters/lambda-alias-target.js';
import { TAG_PUSHED } from '../../lambdas/lib/github-webhook.js';
import type { CanaryWeightRequest, DeployRequest } from '../../lambdas/lib/ports.js';
import { DEPLOY_ACTIONS, METRICS_ACTIONS, SHIFT_ACTIONS, STEP_ACCESS } from '../../infra/step-access.js';

/**
 * STEP_ACCESS against what the code calls: the Lambda and CloudWatch adapters are run against
 * mocked SDK clients, every command they send becomes its IAM action, and the table must name
 * exactly those actions (nothing missing, nothing extra).
 */

const lambdaMock = mockClient(LambdaClient);
const cwMock = mockClient(CloudWatchClient);
beforeEach(() => {
  lambdaMock.reset();
  cwMock.reset();
});
afterAll(() => {
  lambdaMock.restore();
  cwMock.restore();
});

/** `UpdateAliasCommand` → `lambda:UpdateAlias` (the SDK's command names are the API's, which are the IAM actions here). */
const actionsSent = (mock: { calls(): { args: unknown[] }[] }, service: string) =>
  [...new Set(mock.calls().map((c) => `${service}:${(c.args[0] as { constructor: { name: string } }).constructor.name.replace(/Command$/, '')}`))].sort();

const zip = Buffer.from('PK fake zip bytes');
const target = new LambdaAliasTarget(new LambdaClient({ region: 'us-east-1', maxAttempts: 1 }), { waitMaxSeconds: 5 });
const config = { type: 'lambda-alias' as const, functionName: '{service}-{environment}', alias: 'live', artifact: 'function.zip' };
const deployRequest: DeployRequest = {
  service: 'api',
  environment: 'prod',
  version: 'v1.4.0',
  target: config,
  location: { bucket: 'envs', prefix: 'prod/api/v1.4.0/' },
  artifact: { manifestKey: 'builds/api/v1.4.0/manifest.json', commit: 'abc1234', files: [{ path: 'function.zip', size: zip.length, sha256: createHash('sha256').update(zip).digest('hex') }], totalBytes: zip.length },
};
const arms: CanaryWeightRequest = { service: 'api', environment: 'prod', target: config, canary: { version: 'v1.4.0', ref: '7' }, baseline: { version: 'v1.3.0', ref: '6' } };

function lambdaAnswers() {
  const b64 = createHash('sha256').update(zip).digest('base64');
  lambdaMock.on(GetAliasCommand).resolves({ Name: 'live', FunctionVersion: '6', RevisionId: 'r1' });
  lambdaMock.on(GetFunctionConfigurationCommand).resolves({ Version: '6', Description: 'tagflow v1.3.0' });
  lambdaMock.on(UpdateFunctionCodeCommand).resolves({ CodeSha256: b64 });
  lambdaMock.on(GetFunctionCommand).resolves({ Configuration: { LastUpdateStatus: 'Successful', RevisionId: 'r2' } });
  lambdaMock.on(PublishVersionCommand).resolves({ Version: '7', CodeSha256: b64 });
  lambdaMock.on(UpdateFunctionConfigurationCommand).resolves({ RevisionId: 'r3', LastUpdateStatus: 'Successful' });
  lambdaMock.on(UpdateAliasCommand).resolves({});
  lambdaMock.on(CreateAliasCommand).resolves({});
}

describe('STEP_ACCESS is what the steps call', () => {
  it('shift-canary: moving the canary\'s weight (and back to a published version) calls UpdateAlias only, which is all `shift` grants', async () => {
    lambdaAnswers();
    await target.setCanaryWeight(arms, 50);
    await target.setCanaryWeight(arms, 100);
    await target.reuse({ service: 'api', environment: 'prod', target: config, version: 'v1.3.0', ref: '6' });
    expect(actionsSent(lambdaMock, 'lambda')).toEqual(['lambda:UpdateAlias']);
    expect(SHIFT_ACTIONS).toEqual(['lambda:UpdateAlias']);
    expect(STEP_ACCESS['shift-canary'].targets).toEqual(['shift']);
  });

  it('deploy and start-canary: every action a deploy or a canary start can call is in DEPLOY_ACTIONS, and each one is called on some path', async () => {
    const seen = new Set<string>();
    const run = async (fn: () => Promise<unknown>, aliasMissing = false) => {
      lambdaMock.reset();
      lambdaAnswers();
      if (aliasMissing) lambdaMock.on(GetAliasCommand).rejects(new ResourceNotFoundException({ message: 'no alias', $metadata: { httpStatusCode: 404 } }));
      await fn();
      for (const a of actionsSent(lambdaMock, 'lambda')) seen.add(a);
    };
    await run(() => target.deploy(deployRequest));
    await run(() => target.deploy(deployRequest), true);
    await run(() => target.startCanary(deployRequest, 10));
    await run(() => target.startCanary(deployRequest, 10), true);
    // A config-only release: the same code with new variables (lambda-config.ts).
    await run(() => target.deploy({ ...deployRequest, version: 'v1.4.0-config.1', artifact: { ...deployRequest.artifact, config: { base: 'v1.4.0', env: { GREETING: 'hi' } } } }));
    // The update waiter polls GetFunction, which the SDK sends as GetFunctionCommand.
    expect([...seen].sort()).toEqual([...DEPLOY_ACTIONS].sort());
    for (const step of ['deploy', 'start-canary', 'rollback-stage', 'rollback'] as const) expect(STEP_ACCESS[step].targets, step).toContain('deploy');
  });

  it('judge-canary: the metrics source calls GetMetricData only, which is all `metrics` grants', async () => {
    cwMock.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });
    const m = new CloudWatchMetrics(new CloudWatchClient({ region: 'us-east-1' }));
    const q = { ...arms, since: '2026-11-23T10:00:00Z', until: '2026-11-23T10:05:00Z' };
    await m.armCounts({ ...q, thresholds: { tailMs: 200, shiftMs: 100 } });
    await m.baselineLatency(q);
    expect(actionsSent(cwMock, 'cloudwatch')).toEqual(['cloudwatch:GetMetricData']);
    expect(METRICS_ACTIONS).toEqual(['cloudwatch:GetMetricData']);
    const judges = Object.entries(STEP_ACCESS).filter(([, a]) => a.metrics).map(([s]) => s);
    expect(judges).toEqual(['judge-canary']);
  });

  it('events: the detail-types each step may put are the DetailType literals in its core; the webhook\'s is Tag Pushed', () => {
    const dir = join('lambdas', 'lib', 'steps');
    const put = new Map<string, string[]>();
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.ts'))) {
      const types = [...readFileSync(join(dir, f), 'utf8').matchAll(/DetailType:\s*'([^']+)'/g)].map((m) => m[1]!);
      if (types.length) put.set(f.replace(/\.ts$/, ''), types.sort());
    }
    const granted = new Map(Object.entries(STEP_ACCESS).filter(([, a]) => a.events?.length).map(([s, a]) => [s, [...a.events!].sort()]));
    expect(granted).toEqual(put);
    expect(TAG_PUSHED).toEqual({ Source: 'tagflow', DetailType: 'Tag Pushed' });
  });
});
