import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** What the adapters on the one ledger table (the ledger, the approvals) share. */

/** Plain JS values in and out; an absent optional field is left out of the item. */
export const documentClient = (client: DynamoDBClient): DynamoDBDocumentClient => DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });

/** A condition expression that did not hold (by class, or by name when the error crossed a module boundary). */
export const isConditionFailure = (err: unknown): boolean =>
  err instanceof ConditionalCheckFailedException || (err as { name?: string })?.name === 'ConditionalCheckFailedException';
