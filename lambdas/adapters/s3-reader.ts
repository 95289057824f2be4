import { GetObjectCommand, NoSuchKey, type S3Client } from '@aws-sdk/client-s3';
import type { ObjectLocation, ObjectReader } from '../lib/ports.js';
import { call } from './transient.js';

const isMissing = (err: unknown) => err instanceof NoSuchKey || ['NoSuchKey', 'NotFound'].includes((err as { name?: string })?.name ?? '');

/**
 * Reads objects on the S3 API (AWS, or s3rver on loopback in the local runtime). A file of its
 * own so that the steps that only read bundle GetObject alone, not the commands that write.
 */
export class S3Reader implements ObjectReader {
  constructor(protected readonly s3: S3Client) {}

  async get(loc: ObjectLocation): Promise<Uint8Array | undefined> {
    try {
      const res = await call(`S3 GetObject s3://${loc.bucket}/${loc.key}`, () => this.s3.send(new GetObjectCommand({ Bucket: loc.bucket, Key: loc.key })));
      return res.Body ? await res.Body.transformToByteArray() : new Uint8Array();
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
  }

  async stream(loc: ObjectLocation): Promise<AsyncIterable<Uint8Array> | undefined> {
    try {
      const res = await call(`S3 GetObject s3://${loc.bucket}/${loc.key}`, () => this.s3.send(new GetObjectCommand({ Bucket: loc.bucket, Key: loc.key })));
      return (res.Body as AsyncIterable<Uint8Array> | undefined) ?? (async function* () {})();
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
  }
}
