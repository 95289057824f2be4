import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from 'aws-lambda';
import { config } from '../adapters/aws/config.js';
import { DynamoDbDeliveryStore } from '../adapters/dynamodb-deliveries.js';
import { EventBus } from '../adapters/event-bus.js';
import { jsonLogger } from '../adapters/json-logger.js';
import { call } from '../adapters/transient.js';
import type { PipelineConfig } from '../lib/config.js';
import { publishOnce, receiveWebhook, type TagPushedEvent } from '../lib/github-webhook.js';
import type { DeliveryStore, Logger } from '../lib/ports.js';
import { refreshingValue } from '../lib/refreshing-value.js';
import { once } from '../lib/step-handler.js';

export interface WebhookDeps {
  secret: () => Promise<string>;
  /** The secret fetched again when a signature does not match the kept one (undefined: too soon to refetch). */
  refreshSecret?: () => Promise<string | undefined>;
  config: () => Promise<PipelineConfig>;
  publish: (event: TagPushedEvent) => Promise<void>;
  /** Deliveries already put (X-GitHub-Delivery): a replay puts nothing. */
  deliveries: DeliveryStore;
  log: Logger;
  /** @default Date.now */
  nowMs?: () => number;
  /** @default randomUUID */
  attemptId?: () => string;
}

/**
 * The function URL's handler: verify, filter, put one `Tag Pushed` event per delivery; never
 * leak why a signature failed beyond 401. Nothing is written before the signature holds.
 */
export const makeHandler = (deps: () => WebhookDeps) =>
  middy<APIGatewayProxyEventV2, APIGatewayProxyResultV2>({ timeoutEarlyInMillis: 0 }).handler(async (event) => {
    const d = deps();
    const delivery = { headers: event.headers ?? {}, body: event.body ?? '', isBase64Encoded: event.isBase64Encoded };
    const config = await d.config();
    let result = receiveWebhook(delivery, await d.secret(), config);
    // Someone may have changed the secret (in Secrets Manager and GitHub) since this instance
    // read it: check against the current one before answering 401.
    const fresh = result.status === 401 ? await d.refreshSecret?.() : undefined;
    if (fresh !== undefined) {
      result = receiveWebhook(delivery, fresh, config);
      d.log.info('webhook secret read again after a signature mismatch', { matches: result.status !== 401 });
    }
    try {
      result = await publishOnce(result, { deliveries: d.deliveries, publish: d.publish, nowMs: d.nowMs ?? Date.now, attemptId: d.attemptId ?? randomUUID, log: d.log });
    } catch (err) {
      // Lambda counts the error (the webhook's error alarm) and the URL answers 502, so GitHub
      // shows the delivery as failed; its claim was released, so a redelivery goes through.
      d.log.error('webhook: the event was not put', { delivery: event.headers?.['x-github-delivery'], error: String(err) });
      throw err;
    }
    d.log.info('webhook', { status: result.status, message: result.message, delivery: event.headers?.['x-github-delivery'] });
    return { statusCode: result.status, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ message: result.message }) };
  });

/** A mismatched signature reads the secret again at most this often (a forger cannot make every request cost a call). */
const SECRET_REFETCH_MS = 60_000;

const awsWebhookDeps = once((): WebhookDeps => {
  const secretArn = process.env.WEBHOOK_SECRET_ARN;
  const busName = process.env.EVENT_BUS_NAME;
  const table = process.env.LEDGER_TABLE;
  if (!secretArn || !busName || !table) throw new Error('WEBHOOK_SECRET_ARN, EVENT_BUS_NAME and LEDGER_TABLE must be set; the stack sets them');
  const secrets = new SecretsManagerClient({});
  const bus = new EventBus(new EventBridgeClient({}), busName);
  const secret = refreshingValue(async () => {
    const res = await call('Secrets Manager GetSecretValue', () => secrets.send(new GetSecretValueCommand({ SecretId: secretArn })));
    if (!res.SecretString) throw new Error(`secret ${secretArn} has no string value`);
    return res.SecretString;
  }, SECRET_REFETCH_MS);
  return {
    secret: secret.get,
    refreshSecret: secret.refresh,
    config,
    publish: (e) => bus.put([e]),
    deliveries: new DynamoDbDeliveryStore(new DynamoDBClient({}), table),
    log: jsonLogger({ function: process.env.AWS_LAMBDA_FUNCTION_NAME }),
  };
});

export const handler = makeHandler(awsWebhookDeps);
