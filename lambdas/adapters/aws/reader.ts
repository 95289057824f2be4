import { S3Client } from '@aws-sdk/client-s3';
import type { ObjectReader } from '../../lib/ports.js';
import { once } from '../../lib/step-handler.js';
import { S3Reader } from '../s3-reader.js';

/** The artifacts and environments buckets, for the steps that only read them. */
export const reader = once((): ObjectReader => new S3Reader(new S3Client({})));
