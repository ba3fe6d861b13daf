/**
 * vecguard's one DynamoDB table (docs/loop.md "The store"): run blobs, verdict history, approvals and the
 * append-only audit log, keyed by `pk`/`sk` strings. It holds the audit trail of every change vecguard made,
 * so it is retained when the stack goes, recoverable to any second of the last 35 days, and encrypted.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';

export interface StateTableProps {
  /**
   * The table's name. `vecguard approvals` / `approve` look for `vecguard-state` unless told otherwise.
   * @default 'vecguard-state'
   */
  readonly tableName?: string;
}

const TABLE_NAME = /^[A-Za-z0-9_.-]{3,255}$/;

export class StateTable extends Construct {
  readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string, props: StateTableProps = {}) {
    super(scope, id);
    const tableName = props.tableName ?? 'vecguard-state';
    if (!TABLE_NAME.test(tableName)) {
      throw new Error(
        `tableName "${tableName}" is not a DynamoDB table name: use 3–255 of A–Z a–z 0–9 _ . -`,
      );
    }
    this.table = new dynamodb.Table(this, 'Table', {
      tableName,
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}
