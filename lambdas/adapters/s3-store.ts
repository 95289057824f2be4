import { CopyObjectCommand, GetObjectCommand, NoSuchKey, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { ObjectLocation, ObjectStore } from '../lib/ports.js';
import { call } from './transient.js';

const isMissing = (err: unknown) => err instanceof NoSuchKey || ['NoSuchKey', 'NotFound'].includes((err as { name?: string })?.name ?? '');

/** The object store on the S3 API (AWS, or s3rver on loopback in the local runtime). */
export class S3Store implements ObjectStore {
  constructor(private readonly s3: S3Client) {}

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

  async put(loc: ObjectLocation, body: Uint8Array | string, contentType?: string): Promise<void> {
    await call(`S3 PutObject s3://${loc.bucket}/${loc.key}`, () =>
      this.s3.send(new PutObjectCommand({ Bucket: loc.bucket, Key: loc.key, Body: body, ...(contentType ? { ContentType: contentType } : {}) })),
    );
  }

  async copy(from: ObjectLocation, to: ObjectLocation): Promise<void> {
    // encodeURI keeps "/" and is what S3 (and s3rver's decodeURI) expect for CopySource.
    const source = encodeURI(`${from.bucket}/${from.key}`).replace(/\+/g, '%2B');
    await call(`S3 CopyObject s3://${from.bucket}/${from.key} → s3://${to.bucket}/${to.key}`, () =>
      this.s3.send(new CopyObjectCommand({ Bucket: to.bucket, Key: to.key, CopySource: source })),
    );
  }
}
