import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { DeliveryStore } from '../lib/ports.js';
import { documentClient, isConditionFailure } from './dynamodb-table.js';
import { call } from './transient.js';

/**
 * Webhook deliveries in the ledger table, one item each:
 *   DELIVERY#<source>#<delivery id>  DELIVERY   status pending | failed | done, the attempt
 *                                                holding the claim, its lease, and what the
 *                                                delivery asked for (service, tag)
 *
 * Every key starts with `DELIVERY#`: the webhook function's role may touch only such items
 * (`dynamodb:LeadingKeys`), never a release record, a lock or a decision.
 */
export const DELIVERY_KEY_PREFIX = 'DELIVERY#';
const key = (source: string, deliveryId: string) => ({ pk: `${DELIVERY_KEY_PREFIX}${source}#${deliveryId}`, sk: 'DELIVERY' });

export class DynamoDbDeliveryStore implements DeliveryStore {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly table: string,
  ) {
    this.doc = documentClient(client);
  }

  async claim(d: Parameters<DeliveryStore['claim']>[0]): ReturnType<DeliveryStore['claim']> {
    const Key = key(d.source, d.deliveryId);
    try {
      await call('DynamoDB PutItem (claim delivery)', () =>
        this.doc.send(
          new PutCommand({
            TableName: this.table,
            Item: { ...Key, kind: 'delivery', source: d.source, deliveryId: d.deliveryId, status: 'pending', attempt: d.attempt, claimedAt: new Date(d.nowMs).toISOString(), leaseUntil: d.nowMs + d.leaseMs, request: d.summary },
            // New, or released by a failed put, or held by an attempt that died (its lease ran out).
            ConditionExpression: 'attribute_not_exists(pk) OR #status = :failed OR (#status = :pending AND leaseUntil < :now)',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: { ':failed': 'failed', ':pending': 'pending', ':now': d.nowMs },
          }),
        ),
      );
      return { claimed: true };
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
    }
    const res = await call('DynamoDB GetItem (delivery)', () => this.doc.send(new GetCommand({ TableName: this.table, Key, ConsistentRead: true })));
    const item = res.Item;
    if (item?.status === 'done') return { claimed: false, status: 'done' };
    return { claimed: false, status: 'pending', leaseUntil: Number(item?.leaseUntil ?? d.nowMs + d.leaseMs) };
  }

  async complete(d: Parameters<DeliveryStore['complete']>[0]): Promise<void> {
    // Done is final whoever holds the claim now: this attempt's event is on the bus.
    await call('DynamoDB UpdateItem (delivery done)', () =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: key(d.source, d.deliveryId),
          UpdateExpression: 'SET #status = :done, doneAt = :at, doneBy = :attempt',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':done': 'done', ':at': d.at, ':attempt': d.attempt },
        }),
      ),
    );
  }

  async release(d: Parameters<DeliveryStore['release']>[0]): Promise<void> {
    try {
      await call('DynamoDB UpdateItem (delivery failed)', () =>
        this.doc.send(
          new UpdateCommand({
            TableName: this.table,
            Key: key(d.source, d.deliveryId),
            UpdateExpression: 'SET #status = :failed',
            // Only this attempt's own pending claim: never undo a delivery another attempt completed.
            ConditionExpression: '#status = :pending AND attempt = :attempt',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: { ':failed': 'failed', ':pending': 'pending', ':attempt': d.attempt },
          }),
        ),
      );
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
    }
  }
}
