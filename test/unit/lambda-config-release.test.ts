import {
  GetAliasCommand,
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  LambdaClient,
  PreconditionFailedException,
  PublishVersionCommand,
  UpdateAliasCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
} from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { createHash } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { LambdaAliasTarget } from '../../lambdas/adapters/lambda-alias-target.js';
import type { DeployRequest } from '../../lambdas/lib/ports.js';

/**
 * A config release on a Lambda target: a new published version with the base build's code and
 * new variables (UpdateFunctionConfiguration, then PublishVersion), without UpdateFunctionCode
 * when $LATEST already holds that code; every update names the revision it read.
 */

const zip = Buffer.from('PK fake zip bytes');
const hex = createHash('sha256').update(zip).digest('hex');
const b64 = createHash('sha256').update(zip).digest('base64');
const OTHER_CODE = createHash('sha256').update('another build').digest('base64');
const FN = 'api-prod';

const lambdaMock = mockClient(LambdaClient);
const target = new LambdaAliasTarget(new LambdaClient({ region: 'us-east-1', maxAttempts: 1 }), { waitMaxSeconds: 5 });

function request(version: string, env?: Record<string, string>): DeployRequest {
  return {
    service: 'api',
    environment: 'prod',
    version,
    target: { type: 'lambda-alias', functionName: '{service}-{environment}', alias: 'live', artifact: 'function.zip' },
    location: { bucket: 'envs', prefix: `prod/api/${version}/` },
    artifact: {
      manifestKey: `builds/api/${version}/manifest.json`,
      commit: 'abc1234',
      files: [{ path: 'function.zip', size: zip.length, sha256: hex }],
      totalBytes: zip.length,
      ...(env ? { config: { base: 'v1.4.0', env } } : {}),
    },
  };
}

/** Alias `live` on version 6 (tagflow v1.4.0); $LATEST as given. */
function lambda(latest: { code: string; vars: Record<string, string> }) {
  lambdaMock.on(GetAliasCommand).resolves({ Name: 'live', FunctionVersion: '6', RevisionId: 'alias-rev-1' });
  lambdaMock.on(GetFunctionConfigurationCommand).resolves({ Version: '$LATEST', CodeSha256: latest.code, RevisionId: 'latest-rev-1', Environment: { Variables: latest.vars } });
  lambdaMock.on(GetFunctionConfigurationCommand, { Qualifier: '6' }).resolves({ Version: '6', Description: 'tagflow v1.4.0' });
  lambdaMock.on(UpdateFunctionCodeCommand).resolves({ CodeSha256: b64, LastUpdateStatus: 'InProgress', Environment: { Variables: latest.vars } });
  lambdaMock.on(UpdateFunctionConfigurationCommand).resolves({ LastUpdateStatus: 'InProgress' });
  lambdaMock
    .on(GetFunctionCommand)
    .resolvesOnce({ Configuration: { LastUpdateStatus: 'Successful', RevisionId: 'after-first-update' } })
    .resolves({ Configuration: { LastUpdateStatus: 'Successful', RevisionId: 'after-second-update' } });
  lambdaMock.on(PublishVersionCommand).resolves({ Version: '7', CodeSha256: b64 });
  lambdaMock.on(UpdateAliasCommand).resolves({ FunctionVersion: '7' });
}

const commandNames = () => lambdaMock.calls().map((c) => (c.args[0] as { constructor: { name: string } }).constructor.name);

beforeEach(() => lambdaMock.reset());

describe('LambdaAliasTarget, config release', () => {
  it('sets the variables on the code already in $LATEST and publishes that, without UpdateFunctionCode', async () => {
    lambda({ code: b64, vars: { TABLE: 'orders' } });
    const res = await target.deploy(request('v1.4.0-config.1', { GREETING: 'hi' }));

    expect(res).toEqual({ ref: '7', previousVersion: 'v1.4.0' });
    expect(lambdaMock).not.toHaveReceivedCommand(UpdateFunctionCodeCommand);
    expect(commandNames()).toEqual(['GetAliasCommand', 'GetFunctionConfigurationCommand', 'GetFunctionConfigurationCommand', 'UpdateFunctionConfigurationCommand', 'GetFunctionCommand', 'PublishVersionCommand', 'UpdateAliasCommand']);
    // Infra's variables stay; the config's are added and listed, and the update names the revision it read.
    expect(lambdaMock).toHaveReceivedCommandWith(UpdateFunctionConfigurationCommand, {
      FunctionName: FN,
      Environment: { Variables: { TABLE: 'orders', GREETING: 'hi', TAGFLOW_CONFIG_VARS: 'GREETING' } },
      RevisionId: 'latest-rev-1',
    });
    // Lambda refuses to publish if the code is not the base's or anything changed after our update.
    expect(lambdaMock).toHaveReceivedCommandWith(PublishVersionCommand, { FunctionName: FN, CodeSha256: b64, Description: 'tagflow v1.4.0-config.1', RevisionId: 'after-first-update' });
    expect(lambdaMock).toHaveReceivedCommandWith(UpdateAliasCommand, { FunctionName: FN, Name: 'live', FunctionVersion: '7', RevisionId: 'alias-rev-1' });
  });

  it('replaces the variables of the previous config release, not the ones infra set', async () => {
    lambda({ code: b64, vars: { TABLE: 'orders', GREETING: 'hi', OLD_FLAG: 'on', TAGFLOW_CONFIG_VARS: 'GREETING,OLD_FLAG' } });
    await target.deploy(request('v1.4.0-config.2', { GREETING: 'hey' }));
    expect(lambdaMock).toHaveReceivedCommandWith(UpdateFunctionConfigurationCommand, { Environment: { Variables: { TABLE: 'orders', GREETING: 'hey', TAGFLOW_CONFIG_VARS: 'GREETING' } } });
  });

  it('puts the base build\'s code back first when $LATEST holds other code, from the promoted copy', async () => {
    lambda({ code: OTHER_CODE, vars: {} });
    await target.deploy(request('v1.4.0-config.1', { GREETING: 'hi' }));

    expect(commandNames()).toEqual([
      'GetAliasCommand',
      'GetFunctionConfigurationCommand',
      'GetFunctionConfigurationCommand',
      'UpdateFunctionCodeCommand',
      'GetFunctionCommand',
      'UpdateFunctionConfigurationCommand',
      'GetFunctionCommand',
      'PublishVersionCommand',
      'UpdateAliasCommand',
    ]);
    expect(lambdaMock).toHaveReceivedCommandWith(UpdateFunctionCodeCommand, { FunctionName: FN, S3Bucket: 'envs', S3Key: 'prod/api/v1.4.0-config.1/files/function.zip' });
    expect(lambdaMock).toHaveReceivedCommandWith(UpdateFunctionConfigurationCommand, { RevisionId: 'after-first-update' });
    expect(lambdaMock).toHaveReceivedCommandWith(PublishVersionCommand, { CodeSha256: b64, RevisionId: 'after-second-update' });
  });

  it('fails without publishing when the function changed after tagflow read it', async () => {
    lambda({ code: b64, vars: {} });
    lambdaMock.on(UpdateFunctionConfigurationCommand).rejects(new PreconditionFailedException({ message: 'The Revision Id provided does not match the latest Revision Id.', $metadata: { httpStatusCode: 412 } }));

    await expect(target.deploy(request('v1.4.0-config.1', { GREETING: 'hi' }))).rejects.toMatchObject({ name: 'DeployFailed', message: expect.stringContaining('changed while tagflow was deploying v1.4.0-config.1') });
    expect(lambdaMock).not.toHaveReceivedCommand(PublishVersionCommand);
    expect(lambdaMock).not.toHaveReceivedCommand(UpdateAliasCommand);
  });

  it('a code release after a config release drops that release\'s variables before publishing', async () => {
    lambda({ code: OTHER_CODE, vars: { TABLE: 'orders', GREETING: 'hi', TAGFLOW_CONFIG_VARS: 'GREETING' } });
    await target.deploy(request('v1.5.0'));

    expect(lambdaMock).toHaveReceivedCommandWith(UpdateFunctionConfigurationCommand, { Environment: { Variables: { TABLE: 'orders' } }, RevisionId: 'after-first-update' });
    expect(lambdaMock).toHaveReceivedCommandWith(PublishVersionCommand, { Description: 'tagflow v1.5.0', RevisionId: 'after-second-update' });
  });

  it('a code release on a function without config variables makes no configuration update', async () => {
    lambda({ code: OTHER_CODE, vars: { TABLE: 'orders' } });
    await target.deploy(request('v1.5.0'));
    expect(lambdaMock).not.toHaveReceivedCommand(UpdateFunctionConfigurationCommand);
    expect(lambdaMock).toHaveReceivedCommandWith(PublishVersionCommand, { RevisionId: 'after-first-update' });
  });

  it('an image function gets the base image again by its digest, then the variables', async () => {
    const DIGEST = `sha256:${'a'.repeat(64)}`;
    const IMAGE = `111122223333.dkr.ecr.eu-west-1.amazonaws.com/api@${DIGEST}`;
    lambda({ code: 'a'.repeat(64), vars: {} });
    lambdaMock
      .on(GetFunctionCommand)
      .resolvesOnce({ Configuration: { LastUpdateStatus: 'Successful', RevisionId: 'after-first-update' }, Code: { ResolvedImageUri: IMAGE } })
      .resolves({ Configuration: { LastUpdateStatus: 'Successful', RevisionId: 'after-second-update' }, Code: { ResolvedImageUri: IMAGE } });
    const req = request('v1.4.0-config.1', { GREETING: 'hi' });
    req.target = { type: 'lambda-alias', functionName: '{service}-{environment}', alias: 'live', artifact: 'function.zip', imageRepository: '111122223333.dkr.ecr.eu-west-1.amazonaws.com/{service}' };
    req.artifact = { ...req.artifact, imageDigest: DIGEST, files: [], totalBytes: 0 };
    await target.deploy(req);

    expect(lambdaMock).toHaveReceivedCommandWith(UpdateFunctionCodeCommand, { FunctionName: FN, ImageUri: IMAGE });
    expect(lambdaMock).toHaveReceivedCommandWith(UpdateFunctionConfigurationCommand, { Environment: { Variables: { GREETING: 'hi', TAGFLOW_CONFIG_VARS: 'GREETING' } }, RevisionId: 'after-first-update' });
    expect(lambdaMock).toHaveReceivedCommandWith(PublishVersionCommand, { Description: 'tagflow v1.4.0-config.1', RevisionId: 'after-second-update' });
  });
});
