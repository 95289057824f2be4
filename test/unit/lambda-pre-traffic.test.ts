import {
  CreateAliasCommand,
  GetAliasCommand,
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  InvokeCommand,
  LambdaClient,
  PublishVersionCommand,
  UpdateAliasCommand,
  UpdateFunctionCodeCommand,
  type InvokeCommandOutput,
} from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { createHash } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { LambdaAliasTarget } from '../../lambdas/adapters/lambda-alias-target.js';
import { LambdaInvoker } from '../../lambdas/adapters/lambda-invoker.js';
import { parseConfig } from '../../lambdas/lib/config.js';
import type { DeployRequest, Ledger } from '../../lambdas/lib/ports.js';
import { preTraffic } from '../../lambdas/lib/steps/pre-traffic.js';
import type { Decision, EnvironmentState } from '../../lambdas/lib/types.js';

/** The Lambda side of pre-traffic checks (issue 15): a published version invoked by number while the alias stays put. */

const zip = Buffer.from('PK fake zip bytes');
const hex = createHash('sha256').update(zip).digest('hex');
const b64 = createHash('sha256').update(zip).digest('base64');
const FN = 'api-prod';

const lambdaMock = mockClient(LambdaClient);
const client = new LambdaClient({ region: 'us-east-1', maxAttempts: 1 });
const target = new LambdaAliasTarget(client, { waitMaxSeconds: 5 });
const TARGET = { type: 'lambda-alias' as const, functionName: '{service}-{environment}', alias: 'live', artifact: 'function.zip' };

function request(over: Partial<DeployRequest> = {}): DeployRequest {
  return {
    service: 'api',
    environment: 'prod',
    version: 'v1.4.0',
    target: TARGET,
    location: { bucket: 'envs', prefix: 'prod/api/v1.4.0/' },
    artifact: { manifestKey: 'builds/api/v1.4.0/manifest.json', commit: 'abc1234', files: [{ path: 'function.zip', size: zip.length, sha256: hex }], totalBytes: zip.length },
    ...over,
  };
}

/** Alias `live` serves version 6 (tagflow's v1.3.0); a publish makes version 7. */
function lambda() {
  lambdaMock.on(GetAliasCommand).resolves({ Name: 'live', FunctionVersion: '6', RevisionId: 'alias-rev-1' });
  lambdaMock.on(GetFunctionConfigurationCommand).resolves({ Version: '6', Description: 'tagflow v1.3.0' });
  lambdaMock.on(UpdateFunctionCodeCommand).resolves({ CodeSha256: b64, LastUpdateStatus: 'InProgress' });
  lambdaMock.on(GetFunctionCommand).resolves({ Configuration: { LastUpdateStatus: 'Successful', RevisionId: 'fn-rev-2' } });
  lambdaMock.on(PublishVersionCommand).resolves({ Version: '7', CodeSha256: b64 });
  lambdaMock.on(UpdateAliasCommand).resolves({ FunctionVersion: '7' });
}

const commandNames = () => lambdaMock.calls().map((c) => (c.args[0] as { constructor: { name: string } }).constructor.name);
// The SDK answers with a Uint8Array subclass; the invoker only needs the bytes.
const json = (v: unknown) => new TextEncoder().encode(JSON.stringify(v)) as unknown as InvokeCommandOutput['Payload'];

beforeEach(() => lambdaMock.reset());

describe('LambdaAliasTarget.stage and the staged handle', () => {
  it('stage publishes the new version and leaves the alias alone: the qualifier is the version number', async () => {
    lambda();
    expect(await target.stage(request())).toEqual({ ref: '7', qualifier: '7' });
    expect(lambdaMock).toHaveReceivedCommandWith(PublishVersionCommand, { FunctionName: FN, CodeSha256: b64, Description: 'tagflow v1.4.0', RevisionId: 'fn-rev-2' });
    expect(lambdaMock).not.toHaveReceivedCommand(UpdateAliasCommand);
    expect(lambdaMock).not.toHaveReceivedCommand(CreateAliasCommand);
  });

  it('deploy with the staged version moves the alias to it without updating code or publishing again', async () => {
    lambda();
    expect(await target.deploy(request({ staged: '7' }))).toEqual({ ref: '7', previousVersion: 'v1.3.0' });
    expect(commandNames()).toEqual(['GetAliasCommand', 'GetFunctionConfigurationCommand', 'UpdateAliasCommand']);
    expect(lambdaMock).toHaveReceivedCommandExactlyOnceWith(UpdateAliasCommand, { FunctionName: FN, Name: 'live', FunctionVersion: '7', RoutingConfig: { AdditionalVersionWeights: {} }, RevisionId: 'alias-rev-1' });
  });

  it('startCanary with the staged version splits the alias onto it without publishing again', async () => {
    lambda();
    expect(await target.startCanary(request({ staged: '7' }), 10)).toEqual({ ref: '7', baselineRef: '6', previousVersion: 'v1.3.0' });
    expect(lambdaMock).not.toHaveReceivedCommand(PublishVersionCommand);
    expect(lambdaMock).not.toHaveReceivedCommand(UpdateFunctionCodeCommand);
    expect(lambdaMock).toHaveReceivedCommandExactlyOnceWith(UpdateAliasCommand, { FunctionName: FN, Name: 'live', FunctionVersion: '6', RoutingConfig: { AdditionalVersionWeights: { '7': 0.1 } }, RevisionId: 'alias-rev-1' });
  });

  it('refuses a staged handle that is no Lambda version number, before moving anything', async () => {
    lambda();
    await expect(target.deploy(request({ staged: 'v1.4.0' }))).rejects.toMatchObject({ name: 'DeployFailed', message: expect.stringContaining('not a Lambda version number') });
    expect(lambdaMock).not.toHaveReceivedCommand(UpdateAliasCommand);
  });

  it('a refusal by Lambda while staging is DeployFailed, not the version failing to start', async () => {
    lambda();
    lambdaMock.on(PublishVersionCommand).rejects(Object.assign(new Error('not authorized to perform lambda:PublishVersion'), { name: 'AccessDeniedException' }));
    await expect(target.stage(request())).rejects.toMatchObject({ name: 'DeployFailed', message: expect.stringContaining('AccessDeniedException') });
  });
});

describe('the pre-traffic step on a lambda-alias target', () => {
  const environment = parseConfig({
    services: {
      api: {
        target: TARGET,
        environments: [{ name: 'prod', preTraffic: [{ name: 'ping', type: 'invoke', payload: { ping: true }, jsonPath: '$.ok', equals: true, retries: 0 }] }],
      },
    },
  }).services.api!;

  function deps() {
    const decisions: Decision[] = [];
    const state: EnvironmentState = { service: 'api', environment: 'prod', version: 'v1.3.0', healthy: true, goodVersions: ['v1.3.0'], refs: { 'v1.3.0': '6' }, revision: 3, lockHolder: 'exec-1' };
    const ledger = { getEnvironment: async () => state, recordDecision: async (d: Decision) => void decisions.push(d) } as unknown as Ledger;
    const clock = { now: () => new Date('2026-01-05T10:00:00Z'), sleep: async () => undefined };
    return { decisions, deps: { ledger, targets: () => target, invoker: new LambdaInvoker(client), http: { request: async () => ({ status: 599, body: '', latencyMs: 0 }) }, clock } };
  }
  const input = {
    releaseId: 'api@v1.4.0',
    executionId: 'exec-1',
    release: { service: 'api', version: 'v1.4.0' } as never,
    service: environment,
    environment: environment.environments[0]!,
    artifact: request().artifact,
    promoted: { bucket: 'envs', prefix: 'prod/api/v1.4.0/' } as never,
  };

  it('invokes the published version by its number (qualified ARN) and hands its handle on', async () => {
    lambda();
    lambdaMock.on(InvokeCommand).resolves({ StatusCode: 200, Payload: json({ ok: true }) });
    const { deps: d, decisions } = deps();
    const out = await preTraffic(input, d);

    expect(out.staged).toEqual({ ref: '7', qualifier: '7' });
    expect(lambdaMock).toHaveReceivedCommandExactlyOnceWith(InvokeCommand, { FunctionName: FN, Qualifier: '7' });
    expect(lambdaMock).not.toHaveReceivedCommand(UpdateAliasCommand);
    expect(decisions).toEqual([expect.objectContaining({ step: 'pre-traffic', environment: 'prod', verdict: 'passed' })]);
  });

  it('fails with PreTrafficCheckFailed when the new version errors, and the alias never moved', async () => {
    lambda();
    lambdaMock.on(InvokeCommand).resolves({ StatusCode: 200, FunctionError: 'Unhandled', Payload: json({ errorType: 'Error', errorMessage: 'Cannot find module ./db' }) });
    const { deps: d, decisions } = deps();

    await expect(preTraffic(input, d)).rejects.toMatchObject({ name: 'PreTrafficCheckFailed', message: expect.stringContaining('ping: the function returned an error: Unhandled: Error: Cannot find module ./db') });
    expect(lambdaMock).not.toHaveReceivedCommand(UpdateAliasCommand);
    expect(decisions).toEqual([expect.objectContaining({ step: 'pre-traffic', verdict: 'failed' })]);
  });

  it('refuses to stage without the lock', async () => {
    lambda();
    const { deps: d } = deps();
    await expect(preTraffic({ ...input, executionId: 'exec-2' }, d)).rejects.toMatchObject({ name: 'LockLost' });
    expect(lambdaMock.calls()).toEqual([]);
  });
});

describe('preTraffic config', () => {
  const configWith = (target: unknown, preTraffic: unknown[]) => () => parseConfig({ services: { api: { target, environments: [{ name: 'prod', preTraffic }] } } });

  it('refuses checks that would reach the live version instead of the new one', () => {
    expect(configWith(TARGET, [{ name: 'h', path: '/health' }])).toThrow(/services\.api\.environments\[0\]\.preTraffic\[0\]: an http check before traffic would reach the alias.*use \{"type": "invoke"\}/);
    expect(configWith({ type: 'local' }, [{ name: 'h', url: 'https://api.example.com/health' }])).toThrow(/preTraffic\[0\]\.url: an absolute url reaches what serves now/);
    expect(configWith({ type: 'local' }, [{ name: 'i', type: 'invoke' }])).toThrow(/preTraffic\[0\]: an "invoke" check needs a lambda-alias target/);
    expect(configWith({ type: 'local' }, [{ name: 'h', path: '/health', typo: 1 }])).toThrow(/typo/);
  });

  it('takes invoke checks on a Lambda alias and path checks locally; absent means none', () => {
    expect(configWith(TARGET, [{ name: 'i', type: 'invoke' }])().services.api!.environments[0]!.preTraffic).toHaveLength(1);
    expect(configWith({ type: 'local' }, [{ name: 'h', path: '/health' }])().services.api!.environments[0]!.preTraffic).toHaveLength(1);
    expect(parseConfig({ services: { api: { environments: [{ name: 'prod' }] } } }).services.api!.environments[0]!.preTraffic).toBeUndefined();
  });
});
