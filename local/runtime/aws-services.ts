import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient, ResourceInUseException } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import dynalite from 'dynalite';
import S3rver from 's3rver';

/** The AWS APIs the pipeline uses, served on loopback: S3 by s3rver, DynamoDB by dynalite. */

export const LOCAL_REGION = 'us-east-1';
export const LOCAL_ACCOUNT = '000000000000';
const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

export interface LocalAwsServices {
  s3: S3Client;
  dynamodb: DynamoDBClient;
  s3Endpoint: string;
  dynamoEndpoint: string;
  close(): Promise<void>;
}

export async function startAwsServices(dataDir: string, buckets: string[], table: string): Promise<LocalAwsServices> {
  const s3Dir = join(dataDir, 's3');
  const ledgerDir = join(dataDir, 'ledger');
  mkdirSync(s3Dir, { recursive: true });
  mkdirSync(ledgerDir, { recursive: true });

  const s3rver = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: s3Dir, vhostBuckets: false });
  const s3Address = (await s3rver.run()) as AddressInfo;
  const s3Endpoint = `http://127.0.0.1:${s3Address.port}`;

  const dyn = dynalite({ path: ledgerDir, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  try {
    await new Promise<void>((resolve, reject) => {
      dyn.once('error', reject);
      dyn.listen(0, '127.0.0.1', () => resolve());
    });
  } catch (err) {
    await s3rver.close();
    const code = (err as { code?: string }).code;
    throw new Error(
      code === 'LEVEL_LOCKED' || /lock/i.test(String(err))
        ? `the local data folder ${dataDir} is in use by another tagflow process; wait for it or use --data-dir`
        : `could not start the local DynamoDB API: ${String(err)}`,
    );
  }
  const dynamoEndpoint = `http://127.0.0.1:${(dyn.address() as AddressInfo).port}`;

  const s3 = new S3Client({ region: LOCAL_REGION, endpoint: s3Endpoint, forcePathStyle: true, credentials, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
  const dynamodb = new DynamoDBClient({ region: LOCAL_REGION, endpoint: dynamoEndpoint, credentials });

  for (const bucket of buckets) {
    try {
      await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    } catch (err) {
      if (!['BucketAlreadyOwnedByYou', 'BucketAlreadyExists'].includes((err as Error).name)) throw err;
    }
  }
  await ensureLedgerTable(dynamodb, table);

  return {
    s3,
    dynamodb,
    s3Endpoint,
    dynamoEndpoint,
    async close() {
      s3.destroy();
      dynamodb.destroy();
      await s3rver.close();
      await new Promise<void>((resolve) => dyn.close(() => resolve()));
    },
  };
}

async function ensureLedgerTable(dynamodb: DynamoDBClient, table: string): Promise<void> {
  try {
    await dynamodb.send(new DescribeTableCommand({ TableName: table }));
    return;
  } catch (err) {
    if ((err as Error).name !== 'ResourceNotFoundException') throw err;
  }
  try {
    await dynamodb.send(
      new CreateTableCommand({
        TableName: table,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
      }),
    );
  } catch (err) {
    if (!(err instanceof ResourceInUseException)) throw err;
  }
}
