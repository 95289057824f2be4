import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { ApprovalKey, ApprovalRecord, ApprovalStore } from '../lib/ports.js';
import { documentClient, isConditionFailure } from './dynamodb-table.js';
import { call } from './transient.js';

/**
 * Approval requests in the ledger table, one item per release, environment and kind:
 *   SVC#<service>  APR#<version>#<environment>               (an emergency; the key it always had)
 *   SVC#<service>  APR#<version>#<environment>#canary-hold   (a held canary)
 * (beside the release's REL# items; the ledger's queries select by their own prefixes).
 * `approverNames` mirrors `approvals` as plain strings so a condition can test "not yet".
 */

const keyOf = (k: ApprovalKey) => ({ pk: `SVC#${k.service}`, sk: `APR#${k.version}#${k.environment}${k.kind && k.kind !== 'emergency' ? `#${k.kind}` : ''}` });

function recordOf(item: Record<string, unknown> | undefined): ApprovalRecord | undefined {
  if (!item) return undefined;
  const { pk: _pk, sk: _sk, kind: _kind, requestKind, approverNames: _names, ...rest } = item;
  return { ...rest, ...(requestKind ? { kind: requestKind } : {}) } as unknown as ApprovalRecord;
}

export class DynamoDbApprovals implements ApprovalStore {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly table: string,
  ) {
    this.doc = documentClient(client);
  }

  async request(r: Omit<ApprovalRecord, 'status' | 'approvals' | 'rejectedBy' | 'decidedAt'>, opts: { keepApprovals: boolean } = { keepApprovals: true }): Promise<ApprovalRecord> {
    // `kind` on the item says what the ledger table holds (an approval); the request's kind is `requestKind`.
    const { kind: requestKind, ...rest } = r;
    const fields: Record<string, unknown> = { ...rest, ...(requestKind ? { requestKind } : {}), kind: 'approval', status: 'pending' };
    const names = Object.keys(fields);
    const start = opts.keepApprovals ? 'approvals = if_not_exists(approvals, :none), approverNames = if_not_exists(approverNames, :none)' : 'approvals = :none, approverNames = :none REMOVE rejectedBy, decidedAt';
    try {
      const res = await call('DynamoDB UpdateItem (approval request)', () =>
        this.doc.send(
          new UpdateCommand({
            TableName: this.table,
            Key: keyOf(r),
            UpdateExpression: `SET ${names.map((n) => `#${n} = :${n}`).join(', ')}, ${start}`,
            // One release per service+version (the claim), so only a retry of the same execution meets an existing request.
            ConditionExpression: 'attribute_not_exists(pk) OR executionId = :executionId',
            ExpressionAttributeNames: Object.fromEntries(names.map((n) => [`#${n}`, n])),
            ExpressionAttributeValues: { ...Object.fromEntries(names.map((n) => [`:${n}`, fields[n]])), ':none': [] },
            ReturnValues: 'ALL_NEW',
          }),
        ),
      );
      return recordOf(res.Attributes)!;
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      const existing = await this.get(r);
      throw new Error(`an approval request (${requestKind ?? 'emergency'}) for ${r.service} ${r.version} in ${r.environment} belongs to execution ${existing?.executionId ?? 'unknown'}, not ${r.executionId}`);
    }
  }

  async get(key: ApprovalKey): Promise<ApprovalRecord | undefined> {
    const res = await call('DynamoDB GetItem (approval)', () => this.doc.send(new GetCommand({ TableName: this.table, Key: keyOf(key), ConsistentRead: true })));
    return recordOf(res.Item);
  }

  async addApproval(key: ApprovalKey, approver: string, at: string): Promise<{ added: boolean; record: ApprovalRecord | undefined }> {
    try {
      const res = await call('DynamoDB UpdateItem (approval)', () =>
        this.doc.send(
          new UpdateCommand({
            TableName: this.table,
            Key: keyOf(key),
            UpdateExpression: 'SET approvals = list_append(approvals, :one), approverNames = list_append(approverNames, :name)',
            ConditionExpression: '#status = :pending AND NOT contains(approverNames, :approver)',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: { ':one': [{ approver, at }], ':name': [approver], ':approver': approver, ':pending': 'pending' },
            ReturnValues: 'ALL_NEW',
          }),
        ),
      );
      return { added: true, record: recordOf(res.Attributes) };
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      return { added: false, record: await this.get(key) };
    }
  }

  async transition(key: ApprovalKey, from: ApprovalRecord['status'], to: ApprovalRecord['status'], at: string, rejectedBy?: ApprovalRecord['rejectedBy']): Promise<boolean> {
    try {
      await call('DynamoDB UpdateItem (approval status)', () =>
        this.doc.send(
          new UpdateCommand({
            TableName: this.table,
            Key: keyOf(key),
            UpdateExpression: `SET #status = :to, decidedAt = :at${rejectedBy ? ', rejectedBy = :by' : ''}`,
            ConditionExpression: '#status = :from',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: { ':to': to, ':from': from, ':at': at, ...(rejectedBy ? { ':by': rejectedBy } : {}) },
          }),
        ),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }
}
