import { S3Client } from '@aws-sdk/client-s3';
import type { Locations, ObjectStore } from '../../lib/ports.js';
import { once } from '../../lib/step-handler.js';
import { S3Store } from '../s3-store.js';
import { requireEnv } from './env.js';

export const store = once((): ObjectStore => new S3Store(new S3Client({})));

export const locations = once((): Locations => ({ artifactsBucket: requireEnv('ARTIFACTS_BUCKET'), environmentsBucket: requireEnv('ENVIRONMENTS_BUCKET') }));
