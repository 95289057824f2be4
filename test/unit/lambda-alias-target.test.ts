import {
  CreateAliasCommand,
  GetAliasCommand,
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  LambdaClient,
  PreconditionFailedException,
  PublishVersionCommand,
  ResourceNotFoundException,
  TooManyRequestsException,
  UpdateAliasCommand,
  UpdateFunctionCodeCommand,
} from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { createHash } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { LambdaAliasTarget } from '../../lambdas/adapters/lambda-alias-target.js';
import type { DeployRequest } from '../../lambdas/lib/ports.js';

const zip = Buffer.from('PK fake zip bytes');
const hex = createHash('sha256').update(zip).digest('hex');
const b64 = createHash('sha256').update(zip).digest('base64');
const FN = 'api-prod';
const meta = { $metadata: { httpStatusCode: 429 } };
const DIGEST = `sha256:${'a'.repeat(64)}`;

const lambdaMock = mockClient(LambdaClient);
const client = new LambdaClient({ region: 'us-east-1', maxAttempts: 1 });
const target = new LambdaAliasTarget(client, { waitMaxSeconds: 5 });

function request(over: Partial<DeployRequest> = {}): DeployRequest {
  return {
    service: 'api',
    environment: 'prod',
    version: 'v1.4.0',
    target: { type: 'lambda-alias', functionName: '{service}-{environment}', alias: 'live', artifact: 'function.zip' },
    location: { bucket: 'envs', prefix: 'prod/api/v1.4.0/' },
    artifact: { manifestKey: 'builds/api/v1.4.0/manifest.json', commit: 'abc1234', files: [{ path: 'function.zip', size: zip.length, sha256: hex }], totalBytes: zip.length },
    ...over,
  };
}

/** A function whose alias `live` serves version 6, published by tagflow as v1.3.0. */
function happyLambda() {
  lambdaMock.on(GetAliasCommand).resolves({ Name: 'live', FunctionVersion: '6', RevisionId: 'alias-rev-1', RoutingConfig: { AdditionalVersionWeights: { '5': 0.1 } } });
  lambdaMock.on(GetFunctionConfigurationCommand).resolves({ Version: '6', Description: 'tagflow v1.3.0' });
  lambdaMock.on(UpdateFunctionCodeCommand).resolves({ CodeSha256: b64, LastUpdateStatus: 'InProgress' });
  lambdaMock.on(GetFunctionCommand).resolves({ Configuration: { LastUpdateStatus: 'Successful', RevisionId: 'fn-rev-2' } });
  lambdaMock.on(PublishVersionCommand).resolves({ Version: '7', CodeSha256: b64 });
  lambdaMock.on(UpdateAliasCommand).resolves({ FunctionVersion: '7' });
}

const commandNames = () => lambdaMock.calls().map((c) => (c.args[0] as { constructor: { name: string } }).constructor.name);

beforeEach(() => lambdaMock.reset());

describe('LambdaAliasTarget', () => {
  it('updates code from the promoted zip, waits, publishes, then moves the alias with weights cleared', async () => {
    happyLambda();
    const res = await target.deploy(request());

    expect(res).toEqual({ ref: '7', previousVersion: 'v1.3.0' });
    expect(commandNames()).toEqual(['GetAliasCommand', 'GetFunctionConfigurationCommand', 'UpdateFunctionCodeCommand', 'GetFunctionCommand', 'PublishVersionCommand', 'UpdateAliasCommand']);
    expect(lambdaMock).toHaveReceivedCommandWith(GetFunctionConfigurationCommand, { FunctionName: FN, Qualifier: '6' });
    expect(lambdaMock).toHaveReceivedCommandWith(UpdateFunctionCodeCommand, { FunctionName: FN, S3Bucket: 'envs', S3Key: 'prod/api/v1.4.0/files/function.zip' });
    expect(lambdaMock).toHaveReceivedCommandWith(PublishVersionCommand, { FunctionName: FN, CodeSha256: b64, Description: 'tagflow v1.4.0', RevisionId: 'fn-rev-2' });
    expect(lambdaMock).toHaveReceivedCommandExactlyOnceWith(UpdateAliasCommand, {
      FunctionName: FN,
      Name: 'live',
      FunctionVersion: '7',
      RoutingConfig: { AdditionalVersionWeights: {} },
      RevisionId: 'alias-rev-1',
    });
    expect(lambdaMock).not.toHaveReceivedCommand(CreateAliasCommand);
  });

  it('reports a version not published by tagflow as its Lambda version number', async () => {
    happyLambda();
    lambdaMock.on(GetFunctionConfigurationCommand).resolves({ Version: '6', Description: 'hand-made' });
    expect((await target.deploy(request())).previousVersion).toBe('lambda:6');
  });

  it('rolls back to a known Lambda version by moving the alias only', async () => {
    lambdaMock.on(UpdateAliasCommand).resolves({ FunctionVersion: '4' });
    const { service, environment, target: config } = request();
    const res = await target.reuse({ service, environment, target: config, version: 'v1.2.0', ref: '4' });

    expect(res).toEqual({ ref: '4' });
    expect(lambdaMock.calls()).toHaveLength(1);
    expect(lambdaMock).toHaveReceivedCommandWith(UpdateAliasCommand, { FunctionName: FN, Name: 'live', FunctionVersion: '4', RoutingConfig: { AdditionalVersionWeights: {} } });
  });

  it('does not take a version back from a handle that is no Lambda version number', async () => {
    const { service, environment, target: config } = request();
    await expect(target.reuse({ service, environment, target: config, version: 'v1.2.0', ref: 'v1.2.0' })).resolves.toBeUndefined();
    expect(lambdaMock.calls()).toHaveLength(0);
  });

  it('creates the alias after publishing when it does not exist yet', async () => {
    happyLambda();
    lambdaMock.on(GetAliasCommand).rejects(new ResourceNotFoundException({ message: 'Cannot find alias arn: live', $metadata: { httpStatusCode: 404 } }));
    lambdaMock.on(CreateAliasCommand).resolves({ FunctionVersion: '7' });

    const res = await target.deploy(request());
    expect(res).toEqual({ ref: '7' });
    expect(lambdaMock).toHaveReceivedCommandExactlyOnceWith(CreateAliasCommand, { FunctionName: FN, Name: 'live', FunctionVersion: '7' });
    expect(lambdaMock).not.toHaveReceivedCommand(UpdateAliasCommand);
    expect(lambdaMock).not.toHaveReceivedCommand(GetFunctionConfigurationCommand);
    expect(commandNames().indexOf('PublishVersionCommand')).toBeLessThan(commandNames().indexOf('CreateAliasCommand'));
  });

  it('turns throttling that outlived the SDK retries into DependencyUnavailable naming the call', async () => {
    happyLambda();
    lambdaMock.on(UpdateFunctionCodeCommand).rejects(new TooManyRequestsException({ message: 'Rate exceeded', ...meta }));
    await expect(target.deploy(request())).rejects.toMatchObject({ name: 'DependencyUnavailable', message: expect.stringContaining('Lambda UpdateFunctionCode api-prod') });
    expect(lambdaMock).not.toHaveReceivedCommand(PublishVersionCommand);
  });

  it('refuses to go on when the function changed before publishing', async () => {
    happyLambda();
    lambdaMock.on(PublishVersionCommand).rejects(new PreconditionFailedException({ message: 'CodeSha256 does not match', $metadata: { httpStatusCode: 412 } }));
    await expect(target.deploy(request())).rejects.toMatchObject({ name: 'DeployFailed', message: expect.stringMatching(/api-prod changed while tagflow was deploying v1\.4\.0.*CodeSha256 does not match/) });
    expect(lambdaMock).not.toHaveReceivedCommand(UpdateAliasCommand);
  });

  it('refuses code whose hash is not the manifest one, before publishing', async () => {
    happyLambda();
    lambdaMock.on(UpdateFunctionCodeCommand).resolves({ CodeSha256: 'c29tZXRoaW5nIGVsc2U=' });
    await expect(target.deploy(request())).rejects.toMatchObject({ name: 'ArtifactIntegrityError' });
    expect(lambdaMock).not.toHaveReceivedCommand(PublishVersionCommand);
  });

  it('reports the reason Lambda gives when the code update fails', async () => {
    happyLambda();
    lambdaMock.on(GetFunctionCommand).resolves({ Configuration: { LastUpdateStatus: 'Failed', LastUpdateStatusReasonCode: 'InvalidZipFileException', LastUpdateStatusReason: 'Could not unzip uploaded file' } });
    await expect(target.deploy(request())).rejects.toMatchObject({ name: 'DeployFailed', message: expect.stringContaining('InvalidZipFileException: Could not unzip uploaded file') });
    expect(lambdaMock).not.toHaveReceivedCommand(PublishVersionCommand);
  });

  it('says what to configure when an image build meets a zip function', async () => {
    happyLambda();
    const req = request({ artifact: { manifestKey: 'm', commit: 'abc1234', imageDigest: DIGEST, files: [], totalBytes: 0 } });
    await expect(target.deploy(req)).rejects.toMatchObject({ name: 'DeployFailed', message: expect.stringContaining('set "imageRepository" in the lambda-alias target config') });
    expect(lambdaMock).not.toHaveReceivedCommand(UpdateFunctionCodeCommand);
  });
});

describe('LambdaAliasTarget, a function packaged as an image', () => {
  const REPO = '111122223333.dkr.ecr.eu-west-1.amazonaws.com/{service}';
  const imageRequest = (over: Partial<DeployRequest> = {}) =>
    request({
      target: { type: 'lambda-alias', functionName: '{service}-{environment}', alias: 'live', artifact: 'function.zip', imageRepository: REPO },
      artifact: { manifestKey: 'builds/api/v1.4.0/manifest.json', commit: 'abc1234', imageDigest: DIGEST, files: [], totalBytes: 0 },
      ...over,
    });
  const imageLambda = (resolved: string) => {
    happyLambda();
    lambdaMock.on(UpdateFunctionCodeCommand).resolves({ CodeSha256: 'image-code-sha', LastUpdateStatus: 'InProgress' });
    lambdaMock.on(GetFunctionCommand).resolves({ Configuration: { LastUpdateStatus: 'Successful', RevisionId: 'fn-rev-2' }, Code: { ImageUri: `111122223333.dkr.ecr.eu-west-1.amazonaws.com/api@${DIGEST}`, ResolvedImageUri: resolved } });
  };

  it('deploys the build\'s image by digest, checks what Lambda resolved, publishes and moves the alias', async () => {
    imageLambda(`111122223333.dkr.ecr.eu-west-1.amazonaws.com/api@${DIGEST}`);
    const res = await target.deploy(imageRequest());

    expect(res).toEqual({ ref: '7', previousVersion: 'v1.3.0' });
    expect(lambdaMock).toHaveReceivedCommandWith(UpdateFunctionCodeCommand, { FunctionName: FN, ImageUri: `111122223333.dkr.ecr.eu-west-1.amazonaws.com/api@${DIGEST}` });
    expect(lambdaMock.commandCalls(UpdateFunctionCodeCommand)[0]!.args[0].input).not.toHaveProperty('S3Key');
    expect(lambdaMock).toHaveReceivedCommandWith(PublishVersionCommand, { FunctionName: FN, CodeSha256: 'image-code-sha', RevisionId: 'fn-rev-2', Description: 'tagflow v1.4.0' });
    expect(lambdaMock).toHaveReceivedCommandWith(UpdateAliasCommand, { FunctionName: FN, Name: 'live', FunctionVersion: '7' });
  });

  it('refuses to publish when Lambda resolved another image', async () => {
    imageLambda(`111122223333.dkr.ecr.eu-west-1.amazonaws.com/api@sha256:${'b'.repeat(64)}`);
    await expect(target.deploy(imageRequest())).rejects.toMatchObject({ name: 'ArtifactIntegrityError', message: expect.stringContaining(`not the build's ${DIGEST}`) });
    expect(lambdaMock).not.toHaveReceivedCommand(PublishVersionCommand);
  });

  it('refuses a build without an image digest before calling Lambda', async () => {
    imageLambda('unused');
    const zipBuild = imageRequest({ artifact: request().artifact });
    await expect(target.deploy(zipBuild)).rejects.toMatchObject({ name: 'DeployFailed', message: expect.stringContaining('has no image digest in its build') });
    expect(lambdaMock).not.toHaveReceivedCommand(UpdateFunctionCodeCommand);
  });
});

describe('LambdaAliasTarget canary', () => {
  const weights = { service: 'api', environment: 'prod', target: request().target, canary: { version: 'v1.4.0', ref: '7' }, baseline: { version: 'v1.3.0', ref: '6' } };

  it('publishes the new version and gives it the first step\'s share beside the alias\'s own version', async () => {
    happyLambda();
    const res = await target.startCanary(request(), 10);

    expect(res).toEqual({ ref: '7', baselineRef: '6', previousVersion: 'v1.3.0' });
    expect(commandNames()).toEqual(['GetAliasCommand', 'GetFunctionConfigurationCommand', 'UpdateFunctionCodeCommand', 'GetFunctionCommand', 'PublishVersionCommand', 'UpdateAliasCommand']);
    expect(lambdaMock).toHaveReceivedCommandExactlyOnceWith(UpdateAliasCommand, {
      FunctionName: FN,
      Name: 'live',
      FunctionVersion: '6',
      RoutingConfig: { AdditionalVersionWeights: { '7': 0.1 } },
      RevisionId: 'alias-rev-1',
    });
  });

  it('moves the split, and at 100% makes the canary the alias version with no split', async () => {
    lambdaMock.on(UpdateAliasCommand).resolves({});
    await target.setCanaryWeight(weights, 50);
    await target.setCanaryWeight(weights, 100);

    const calls = lambdaMock.commandCalls(UpdateAliasCommand).map((c) => c.args[0].input);
    expect(calls).toEqual([
      { FunctionName: FN, Name: 'live', FunctionVersion: '6', RoutingConfig: { AdditionalVersionWeights: { '7': 0.5 } } },
      { FunctionName: FN, Name: 'live', FunctionVersion: '7', RoutingConfig: { AdditionalVersionWeights: {} } },
    ]);
  });

  it('has no baseline when the alias does not exist yet: the new version takes the alias whole', async () => {
    happyLambda();
    lambdaMock.on(GetAliasCommand).rejects(new ResourceNotFoundException({ message: 'alias not found', $metadata: {} }));
    const res = await target.startCanary(request(), 10);

    expect(res).toEqual({ ref: '7' });
    expect(lambdaMock).toHaveReceivedCommandWith(CreateAliasCommand, { FunctionName: FN, Name: 'live', FunctionVersion: '7' });
    expect(lambdaMock).not.toHaveReceivedCommand(UpdateAliasCommand);
  });

  it('refuses a weight outside 0–100 before calling Lambda', async () => {
    await expect(target.setCanaryWeight(weights, 120)).rejects.toThrow(/0–100 percent, got 120/);
    await expect(target.startCanary(request(), -1)).rejects.toThrow(/0–100 percent/);
    expect(lambdaMock.calls()).toHaveLength(0);
  });
});
