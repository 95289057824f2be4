import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { parseConfigText, type PipelineConfig, type TargetConfig } from '../lib/config.js';
import type { DeployTarget, Deps, MetricsSource } from '../lib/ports.js';
import { systemClock } from '../lib/ports.js';
import { once } from '../lib/step-handler.js';
import { DynamoDbLedger } from './dynamodb-ledger.js';
import { fetchProbe } from './fetch-probe.js';
import { jsonLogger } from './json-logger.js';
import { LambdaAliasTarget } from './lambda-alias-target.js';
import { LambdaInvoker } from './lambda-invoker.js';
import { S3Store } from './s3-store.js';

function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`environment variable ${name} is not set; the stack sets it on every tagflow function`);
  return value;
}

/** The pipeline config: inline in TAGFLOW_CONFIG (what the stack sets), validated once. */
const loadConfig = once(async (): Promise<PipelineConfig> => parseConfigText(requireEnv('TAGFLOW_CONFIG'), 'TAGFLOW_CONFIG'));

/**
 * Deps for a step running in AWS Lambda, from the environment the stack sets. Built once per
 * cold start (on first use, so importing a handler never needs AWS settings).
 */
export const awsDeps = once((): Deps => {
  const s3 = new S3Client({});
  const lambda = new LambdaClient({});
  const aliasTarget = new LambdaAliasTarget(lambda);
  return {
    config: loadConfig,
    ledger: new DynamoDbLedger(new DynamoDBClient({}), requireEnv('LEDGER_TABLE')),
    store: new S3Store(s3),
    locations: { artifactsBucket: requireEnv('ARTIFACTS_BUCKET'), environmentsBucket: requireEnv('ENVIRONMENTS_BUCKET') },
    targets: (target: TargetConfig): DeployTarget => {
      if (target.type === 'lambda-alias') return aliasTarget;
      throw new Error(`deploy target "${target.type}" runs only in the local runtime; in AWS use "lambda-alias"`);
    },
    metrics: (target: TargetConfig): MetricsSource => {
      throw new Error(`canary metrics for ${target.type} targets in AWS need the CloudWatch adapter, which is not built yet; canary environments run in the local runtime only`);
    },
    http: fetchProbe,
    invoker: new LambdaInvoker(lambda),
    clock: systemClock,
    log: jsonLogger({ function: process.env.AWS_LAMBDA_FUNCTION_NAME }),
    lockTtlMs: Number(process.env.LOCK_TTL_MS ?? 30 * 60_000),
  };
});
