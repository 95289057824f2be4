import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient, ResourceInUseException } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import dynalite from 'dynalite';
import S3rver from 's3rver';

/**
 * The AWS APIs the pipeline uses, served on loopback: S3 by s3rver, DynamoDB by dynalite.
 *
 * One process owns a data folder's APIs (dynalite's LevelDB allows one): it writes
 * `owner.json` (its pid and endpoints) once they answer, and removes it on close. Another
 * tagflow process on the same folder reads the ledger through the owner's endpoints
 * (`share: 'attach'`, for status, history, dora) or is refused at once with DataDirBusy.
 */

/** The data folder is owned by another live tagflow process. */
export class DataDirBusy extends Error {
  override readonly name = 'DataDirBusy';
}

/** The data folder cannot be used (disk full, a damaged ledger): named, never a raw LevelDB error. */
export class LocalDataError extends Error {
  override readonly name = 'LocalDataError';
}

interface Owner {
  pid: number;
  s3Endpoint: string;
  dynamoEndpoint: string;
  startedAt: string;
}

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

function readOwner(dataDir: string): Owner | undefined {
  const path = join(dataDir, 'owner.json');
  if (!existsSync(path)) return undefined;
  try {
    const o = JSON.parse(readFileSync(path, 'utf8')) as Owner;
    return typeof o.pid === 'number' && o.pid !== process.pid && isAlive(o.pid) ? o : undefined;
  } catch {
    return undefined;
  }
}

/** What went wrong with the data folder, in words that name it and say what to do. */
export function describeDataError(dataDir: string, err: unknown): Error {
  const code = (err as { code?: string }).code ?? '';
  const text = `${code} ${String(err)} ${String((err as { cause?: unknown }).cause ?? '')}`;
  if (/Database is closed|LEVEL_LOCKED|LOCK:/.test(text)) return new DataDirBusy(`the local data folder ${dataDir} is in use by another tagflow process; wait for it to end, or use another --data-dir`);
  if (/ENOSPC|No space left/i.test(text)) return new LocalDataError(`the local data folder ${dataDir} is on a full disk (${code || 'ENOSPC'}); free some space and run the command again; nothing was started`);
  if (/LEVEL_|Corruption|corrupt/i.test(text)) return new LocalDataError(`the local ledger in ${join(dataDir, 'ledger')} cannot be read (${code || String(err).slice(0, 200)}); it may be damaged: move the folder aside and start over (delete ${dataDir}), nothing was started`);
  return err instanceof Error ? err : new Error(String(err));
}

/**
 * Opens the ledger's LevelDB once, as dynalite will, to learn before anything runs whether it
 * is locked by another process, damaged, or unwritable: dynalite would only fail its first
 * request later, with an exception thrown outside any promise. It is dynalite's own LevelDB
 * binding, resolved through dynalite.
 */
async function probeLedger(ledgerDir: string): Promise<void> {
  const { ClassicLevel } = createRequire(createRequire(import.meta.url).resolve('dynalite'))('classic-level') as {
    ClassicLevel: new (path: string) => { open(): Promise<void>; close(): Promise<void> };
  };
  const db = new ClassicLevel(ledgerDir);
  try {
    await db.open();
  } catch (err) {
    // LEVEL_DATABASE_NOT_OPEN wraps what happened: LEVEL_LOCKED, LEVEL_CORRUPTION, LEVEL_IO_ERROR.
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw Object.assign(new Error(`${cause?.code ?? (err as { code?: string }).code}: ${cause?.message ?? (err as Error).message}`), { code: cause?.code ?? (err as { code?: string }).code });
  }
  await db.close();
}

/** The SDK clients for local APIs (path-style S3; checksums only where required: s3rver stores aws-chunked framing otherwise). */
function clientsFor(s3Endpoint: string, dynamoEndpoint: string): { s3: S3Client; dynamodb: DynamoDBClient } {
  return {
    s3: new S3Client({ region: LOCAL_REGION, endpoint: s3Endpoint, forcePathStyle: true, credentials, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' }),
    dynamodb: new DynamoDBClient({ region: LOCAL_REGION, endpoint: dynamoEndpoint, credentials }),
  };
}

export interface ServiceOptions {
  /** Another live process owns the folder: read through its APIs ('attach'), or refuse with DataDirBusy (default). */
  share?: 'attach' | 'refuse';
}

export const LOCAL_REGION = 'us-east-1';
export const LOCAL_ACCOUNT = '000000000000';
const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

export interface LocalAwsServices {
  s3: S3Client;
  dynamodb: DynamoDBClient;
  s3Endpoint: string;
  dynamoEndpoint: string;
  /** The pid of the process whose APIs these are, when not this one's. */
  attachedTo?: number;
  close(): Promise<void>;
}

export async function startAwsServices(dataDir: string, buckets: string[], table: string, opts: ServiceOptions = {}): Promise<LocalAwsServices> {
  const owner = readOwner(dataDir);
  if (owner) {
    if (opts.share !== 'attach') throw new DataDirBusy(`the local data folder ${dataDir} is in use by tagflow process ${owner.pid} (since ${owner.startedAt}); wait for it to end, or use another --data-dir (tagflow status, history, dora, plan, freeze and unfreeze work beside it)`);
    const { s3, dynamodb } = clientsFor(owner.s3Endpoint, owner.dynamoEndpoint);
    return {
      s3,
      dynamodb,
      s3Endpoint: owner.s3Endpoint,
      dynamoEndpoint: owner.dynamoEndpoint,
      attachedTo: owner.pid,
      async close() {
        s3.destroy();
        dynamodb.destroy();
      },
    };
  }
  const s3Dir = join(dataDir, 's3');
  const ledgerDir = join(dataDir, 'ledger');
  mkdirSync(s3Dir, { recursive: true });
  mkdirSync(ledgerDir, { recursive: true });

  try {
    await probeLedger(ledgerDir);
  } catch (err) {
    throw describeDataError(dataDir, err);
  }

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
    throw describeDataError(dataDir, err);
  }
  const dynamoEndpoint = `http://127.0.0.1:${(dyn.address() as AddressInfo).port}`;

  const { s3, dynamodb } = clientsFor(s3Endpoint, dynamoEndpoint);

  const ownerPath = join(dataDir, 'owner.json');
  const close = async () => {
    s3.destroy();
    dynamodb.destroy();
    await s3rver.close();
    await new Promise<void>((resolve) => dyn.close(() => resolve()));
  };
  try {
    for (const bucket of buckets) {
      try {
        await s3.send(new CreateBucketCommand({ Bucket: bucket }));
      } catch (err) {
        if (!['BucketAlreadyOwnedByYou', 'BucketAlreadyExists'].includes((err as Error).name)) throw err;
      }
    }
    // The first request is where dynalite finds its LevelDB locked by another process, damaged, or on a full disk.
    await ensureLedgerTable(dynamodb, table);
    const mine: Owner = { pid: process.pid, s3Endpoint, dynamoEndpoint, startedAt: new Date().toISOString() };
    writeFileSync(`${ownerPath}.tmp`, JSON.stringify(mine));
    renameSync(`${ownerPath}.tmp`, ownerPath);
  } catch (err) {
    await close();
    throw describeDataError(dataDir, err);
  }

  return {
    s3,
    dynamodb,
    s3Endpoint,
    dynamoEndpoint,
    async close() {
      try {
        if ((JSON.parse(readFileSync(ownerPath, 'utf8')) as Owner).pid === process.pid) rmSync(ownerPath, { force: true });
      } catch {
        // Already gone.
      }
      await close();
    },
  };
}

/**
 * Creates the ledger table (the key schema the stack deploys) unless it exists, and returns once
 * it is ACTIVE: dynalite answers "not found" to reads of a table still CREATING, which a busy
 * machine can reach before the table's timer fires.
 */
export async function ensureLedgerTable(dynamodb: DynamoDBClient, table: string): Promise<void> {
  await createLedgerTable(dynamodb, table);
  for (let i = 0; i < 100; i++) {
    const status = (await dynamodb.send(new DescribeTableCommand({ TableName: table }))).Table?.TableStatus;
    if (status === 'ACTIVE') return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`the local ledger table ${table} did not become ACTIVE within a second`);
}

async function createLedgerTable(dynamodb: DynamoDBClient, table: string): Promise<void> {
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
