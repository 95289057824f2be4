import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, Table } from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';

/**
 * The ledger table (`lambdas/adapters/dynamodb-ledger.ts`): string keys `pk` and `sk`, release
 * records, outcomes, decisions, and one state item per service+environment.
 *
 * No TTL attribute: the environment lock is a pair of fields (holder, expiry) on the
 * environment's state item, which also holds the current and last known-good versions. A TTL
 * would let DynamoDB delete that item, and with it the version a rollback returns to; an
 * expired lock is instead recognised by its expiry time when the next release tries to take it.
 * Release records and decisions are the audit trail and never expire either.
 */
export class Ledger extends Construct {
  readonly table: Table;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.table = new Table(this, 'Table', {
      partitionKey: { name: 'pk', type: AttributeType.STRING },
      sortKey: { name: 'sk', type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}
