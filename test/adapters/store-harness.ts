/** A sandbox with DynamoDB and vecguard's state table, for the store tests. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createTable, type StateTable, stateTableClient } from '#adapters/store/table.ts';
import { DynamoDbEmulator } from '#sandbox/dynamodb/emulator.ts';
import { type SandboxHandle, startSandbox } from '#sandbox/server.ts';

export interface StoreHarness {
  readonly sandbox: SandboxHandle;
  readonly dynamodb: DynamoDBClient;
  readonly table: StateTable;
  stop(): Promise<void>;
}

export async function startStoreSandbox(tableName = 'vecguard-state'): Promise<StoreHarness> {
  const emulator = new DynamoDbEmulator();
  const sandbox = await startSandbox({ services: [emulator] });
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
      await emulator.close();
    },
  };
}
