import { S3Client } from '@aws-sdk/client-s3';
import type { ObjectStore } from '../../lib/ports.js';
import { once } from '../../lib/step-handler.js';
import { S3Store } from '../s3-store.js';

/** The artifacts and environments buckets, read and written (promotion). */
export const store = once((): ObjectStore => new S3Store(new S3Client({})));
