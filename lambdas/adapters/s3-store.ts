import { CopyObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { ObjectLocation, ObjectStore } from '../lib/ports.js';
import { S3Reader } from './s3-reader.js';
import { call } from './transient.js';

/** The object store on the S3 API (AWS, or s3rver on loopback in the local runtime): reads, and the writes promotion and CI make. */
export class S3Store extends S3Reader implements ObjectStore {
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
