import { DynamoDBClient, ProvisionedThroughputExceededException, ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { GetObjectCommand, NoSuchKey, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { DynamoDbLedger } from '../../lambdas/adapters/dynamodb-ledger.js';
import { S3Store } from '../../lambdas/adapters/s3-store.js';
import type { EnvironmentState, ReleaseRecord } from '../../lambdas/lib/types.js';

/** What a request that outlived the SDK's retries throws: the client is built with maxAttempts 1. */
const slowDown = () => new S3ServiceException({ name: 'SlowDown', $fault: 'server', $metadata: { httpStatusCode: 503 }, message: 'Please reduce your request rate.' });
const unavailable503 = () => Object.assign(new Error('Service Unavailable'), { name: 'Unknown', $metadata: { httpStatusCode: 503 } });
const throttled = () => new ProvisionedThroughputExceededException({ message: 'Throughput exceeds the provisioned rate', $metadata: { httpStatusCode: 400 } });
const retryableThrottle = () => Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $retryable: { throttling: true }, $metadata: { httpStatusCode: 400 } });
const conditionFailed = () => new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: { httpStatusCode: 400 } });

describe('S3Store under S3 faults', () => {
  const s3Mock = mockClient(S3Client);
  const store = new S3Store(new S3Client({ region: 'us-east-1', maxAttempts: 1 }));
  beforeEach(() => s3Mock.reset());

  it('turns a lasting 503 SlowDown into DependencyUnavailable naming the operation and object', async () => {
    s3Mock.on(GetObjectCommand).rejects(slowDown());
    await expect(store.get({ bucket: 'art', key: 'builds/api/v1.0.0/manifest.json' })).rejects.toMatchObject({
      name: 'DependencyUnavailable',
      message: expect.stringMatching(/^S3 GetObject s3:\/\/art\/builds\/api\/v1\.0\.0\/manifest\.json failed after retries: SlowDown/),
    });
  });

  it('treats any 5xx on a write as transient', async () => {
    s3Mock.on(PutObjectCommand).rejects(unavailable503());
    await expect(store.put({ bucket: 'art', key: 'k' }, 'x')).rejects.toMatchObject({ name: 'DependencyUnavailable', message: expect.stringContaining('S3 PutObject s3://art/k') });
  });

  it('answers undefined for a missing object, from get and from stream', async () => {
    s3Mock.on(GetObjectCommand).rejects(new NoSuchKey({ message: 'The specified key does not exist.', $metadata: { httpStatusCode: 404 } }));
    await expect(store.get({ bucket: 'art', key: 'nope' })).resolves.toBeUndefined();
    await expect(store.stream({ bucket: 'art', key: 'nope' })).resolves.toBeUndefined();
    expect(s3Mock).toHaveReceivedCommandWith(GetObjectCommand, { Bucket: 'art', Key: 'nope' });
  });

  it('lets a permanent error (access denied) through unchanged', async () => {
    s3Mock.on(GetObjectCommand).rejects(new S3ServiceException({ name: 'AccessDenied', $fault: 'client', $metadata: { httpStatusCode: 403 }, message: 'Access Denied' }));
    await expect(store.get({ bucket: 'art', key: 'k' })).rejects.toMatchObject({ name: 'AccessDenied' });
  });
});

describe('DynamoDbLedger under DynamoDB faults', () => {
  const ddbMock = mockClient(DynamoDBDocumentClient);
  const ledger = new DynamoDbLedger(new DynamoDBClient({ region: 'us-east-1', maxAttempts: 1 }), 'ledger');
  beforeEach(() => ddbMock.reset());

  const record: ReleaseRecord = {
    releaseId: 'api@v1.0.0',
    service: 'api',
    version: 'v1.0.0',
    trigger: { kind: 'tag-push' },
    executionId: 'exec-2',
    startedAt: '2026-01-01T00:00:00.000Z',
    plan: ['dev'],
    configSnapshot: '{}',
  };

  it('turns lasting throttling into DependencyUnavailable naming the operation', async () => {
    ddbMock.on(PutCommand).rejects(throttled());
    await expect(ledger.claimRelease(record)).rejects.toMatchObject({ name: 'DependencyUnavailable', message: expect.stringContaining('DynamoDB PutItem (claim release) failed after retries: ProvisionedThroughputExceededException') });

    ddbMock.reset();
    ddbMock.on(GetCommand).rejects(retryableThrottle());
    await expect(ledger.getRelease('api', 'v1.0.0')).rejects.toMatchObject({ name: 'DependencyUnavailable', message: expect.stringContaining('DynamoDB GetItem (release)') });
  });

  it('reports a release someone else claimed, with their record', async () => {
    const existing = { ...record, executionId: 'exec-1' };
    ddbMock.on(PutCommand).rejects(conditionFailed());
    ddbMock.on(GetCommand).resolves({ Item: { pk: 'SVC#api', sk: 'REL#v1.0.0', kind: 'release', ...existing } });

    await expect(ledger.claimRelease(record)).resolves.toEqual({ claimed: false, existing });
    expect(ddbMock).toHaveReceivedCommandWith(PutCommand, { TableName: 'ledger', ConditionExpression: 'attribute_not_exists(pk)' });
    expect(ddbMock).toHaveReceivedCommandWith(GetCommand, { TableName: 'ledger', Key: { pk: 'SVC#api', sk: 'REL#v1.0.0' }, ConsistentRead: true });
    // The loser does not touch the service index.
    expect(ddbMock).toHaveReceivedCommandTimes(PutCommand, 1);
  });

  it('throws LockLost when the environment changed under the writer', async () => {
    const state: EnvironmentState = { service: 'api', environment: 'prod', version: 'v1.0.0', healthy: true, goodVersions: ['v1.0.0'], refs: { 'v1.0.0': '3' }, revision: 4 };
    ddbMock.on(UpdateCommand).rejects(conditionFailed());
    ddbMock.on(GetCommand).resolves({ Item: { pk: 'SVC#api', sk: 'ENV#prod', ...state, revision: 5, lockHolder: 'exec-other' } });

    await expect(ledger.putEnvironment(state, 'exec-2')).rejects.toMatchObject({
      name: 'LockLost',
      message: expect.stringContaining('lock holder exec-other, revision 5, expected holder exec-2 at revision 4'),
    });
    expect(ddbMock).toHaveReceivedCommandWith(UpdateCommand, { ExpressionAttributeValues: expect.objectContaining({ ':holder': 'exec-2', ':rev': 4, ':revision': 5 }) });
  });
});
