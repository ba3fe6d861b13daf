/** A sandbox with DynamoDB and vecguard's state table, for the store tests. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type Sandbox, startSandbox } from '@vecguard/sandbox';
import { createTable, type StateTable, stateTableClient } from '#adapters/store/table.ts';

export interface StoreHarness {
  readonly sandbox: Sandbox;
  readonly dynamodb: DynamoDBClient;
  readonly table: StateTable;
  stop(): Promise<void>;
}

export async function startStoreSandbox(tableName = 'vecguard-state'): Promise<StoreHarness> {
  const sandbox = await startSandbox();
  const dynamodb = new DynamoDBClient({
    endpoint: sandbox.url,
    region: sandbox.region,
    credentials: sandbox.clientCredentials,
    maxAttempts: 1,
  });
  await createTable(dynamodb, tableName);
  return {
    sandbox,
    dynamodb,
    table: { client: stateTableClient(dynamodb), tableName },
    stop: async () => {
      await sandbox.stop();
    },
  };
}
