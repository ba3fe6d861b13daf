/**
 * vecguard's one DynamoDB table (`pk`/`sk` strings), the keys of every item kind in it (docs/loop.md, "The
 * store"), and the pieces the stores share. Keys are built here and only here, so the layout in the note and
 * the layout in the table cannot drift apart.
 */
import {
  CreateTableCommand,
  type DynamoDBClient,
  ResourceInUseException,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { toAwsCallError } from '../../shared/errors.ts';

/** Where a store lives: a document client and the table name (from config, never from env here). */
export interface StateTable {
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
}

/** A document client for the state table: undefined attributes are dropped rather than refused. */
export function stateTableClient(client: DynamoDBClient): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

/** One run of one scope: the blobs of a run live under it. */
export interface RunKey {
  readonly runId: string;
  readonly accountId: string;
  readonly region: string;
}

/** Item keys, exactly as docs/loop.md lays them out. */
export const keys = {
  /** Blob chunks: `RUN#<runId>#<account>#<region>` / `<name>#<iteration>#<chunk>` (chunk zero-padded to sort). */
  run: (run: RunKey) => `RUN#${run.runId}#${run.accountId}#${run.region}`,
  blobPrefix: (name: string, iteration: number) => `${name}#${iteration}#`,
  blobChunk: (name: string, iteration: number, chunk: number) =>
    `${name}#${iteration}#${String(chunk).padStart(5, '0')}`,
  /** Change budgets (store/change-budget.ts): the run's under its run key, the sweep's under `SWEEP#<sweepId>`. */
  sweep: (sweepId: string) => `SWEEP#${sweepId}`,
  changesSk: 'CHANGES',
  /** Verdict history: `HISTORY#<account>#<region>` / `VERDICTS`. */
  history: (accountId: string, region: string) => `HISTORY#${accountId}#${region}`,
  historySk: 'VERDICTS',
  /** Approvals: `APPROVAL#<approvalId>` / `APPROVAL`. */
  approval: (approvalId: string) => `APPROVAL#${approvalId}`,
  approvalSk: 'APPROVAL',
  /** Audit log: `AUDIT#<account>#<region>` / `<ISO time>#<actionId>`. */
  audit: (accountId: string, region: string) => `AUDIT#${accountId}#${region}`,
  auditSk: (at: string, actionId: string) => `${at}#${actionId}`,
  /** The scope's lease (one run at a time): `SCOPE#<account>#<region>` / `LEASE`. */
  scope: (accountId: string, region: string) => `SCOPE#${accountId}#${region}`,
  scopeSk: 'LEASE',
} as const;

/** Send through the document client, turning SDK errors into the taxonomy (`AwsCallError`). */
export async function send<Output>(
  table: StateTable,
  action: string,
  // biome-ignore lint/suspicious/noExplicitAny: any lib-dynamodb command; the output type is fixed by the caller.
  command: any,
): Promise<Output> {
  try {
    return (await table.client.send(command)) as Output;
  } catch (error) {
    throw toAwsCallError(error, 'dynamodb', action);
  }
}

export function isConditionalCheckFailed(error: unknown): boolean {
  return (error as { name?: string } | undefined)?.name === 'ConditionalCheckFailedException';
}

/** ISO-8601 in the one format the table stores (`toISOString`), so that string order is time order. */
export function isoTime(at: Date | string | number, what = 'time'): string {
  const date = at instanceof Date ? at : new Date(at);
  if (Number.isNaN(date.getTime())) throw new RangeError(`${what} is not a valid time: ${String(at)}`);
  return date.toISOString();
}

export interface CreateTableOptions {
  /** How long to wait for ACTIVE, in seconds. Default 60. */
  readonly maxWaitSeconds?: number;
}

/**
 * Create the state table (on-demand, `pk`/`sk` strings) and wait until it is ACTIVE. An existing table is
 * fine: the sandbox, the demo and tests call this on every start. CDK creates it in AWS.
 */
export async function createTable(
  client: DynamoDBClient,
  tableName: string,
  options: CreateTableOptions = {},
): Promise<void> {
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
      }),
    );
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw toAwsCallError(error, 'dynamodb', 'CreateTable');
  }
  try {
    await waitUntilTableExists(
      { client, maxWaitTime: options.maxWaitSeconds ?? 60, minDelay: 0.05, maxDelay: 1 },
      { TableName: tableName },
    );
  } catch (error) {
    throw toAwsCallError(error, 'dynamodb', 'DescribeTable');
  }
}
