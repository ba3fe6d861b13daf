import {
  ConditionalCheckFailedException,
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ListTablesCommand,
  ResourceNotFoundException,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_ACCESS_KEY_ID, DEFAULT_ACCOUNT_ID, DEFAULT_SECRET_ACCESS_KEY } from '../src/credentials.ts';
import { DynamoDbEmulator } from '../src/dynamodb/emulator.ts';
import { type SandboxHandle, startSandboxServer } from '../src/server.ts';

const REGION = 'eu-central-1';
const MEMBER = '222222222222';

describe('sandbox DynamoDB (dynalite)', () => {
  const dynamo = new DynamoDbEmulator();
  let sandbox: SandboxHandle;
  const client = (accessKeyId = DEFAULT_ACCESS_KEY_ID) =>
    new DynamoDBClient({
      endpoint: sandbox.url,
      region: REGION,
      credentials: { accessKeyId, secretAccessKey: DEFAULT_SECRET_ACCESS_KEY },
      maxAttempts: 1,
    });

  beforeAll(async () => {
    sandbox = await startSandboxServer({ services: [dynamo] });
    sandbox.registerCredentials('AKIDMEMBERDDB', MEMBER);
    const ddb = client();
    await ddb.send(
      new CreateTableCommand({
        TableName: 'vecguard-state',
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
    await waitUntilTableExists(
      { client: ddb, maxWaitTime: 5, minDelay: 0.01, maxDelay: 0.05 },
      { TableName: 'vecguard-state' },
    );
  });
  afterAll(async () => {
    // stop() closes every service, dynalite included.
    await sandbox.stop();
  });

  it('creates a table whose ARN names the caller account and Region', async () => {
    const { Table } = await client().send(new DescribeTableCommand({ TableName: 'vecguard-state' }));
    expect(Table?.TableStatus).toBe('ACTIVE');
    expect(Table?.TableArn).toBe(`arn:aws:dynamodb:${REGION}:${DEFAULT_ACCOUNT_ID}:table/vecguard-state`);
  });

  it('round-trips items through the document client and queries them', async () => {
    const doc = DynamoDBDocumentClient.from(client());
    await doc.send(
      new PutCommand({
        TableName: 'vecguard-state',
        Item: { pk: 'scope#1', sk: 'vpc#a', mode: 'monitor', n: 1 },
      }),
    );
    await doc.send(
      new PutCommand({
        TableName: 'vecguard-state',
        Item: { pk: 'scope#1', sk: 'vpc#b', mode: 'enforce', n: 2 },
      }),
    );
    await doc.send(
      new UpdateCommand({
        TableName: 'vecguard-state',
        Key: { pk: 'scope#1', sk: 'vpc#a' },
        UpdateExpression: 'SET #m = :m',
        ExpressionAttributeNames: { '#m': 'mode' },
        ExpressionAttributeValues: { ':m': 'enforce' },
      }),
    );
    const got = await doc.send(
      new GetCommand({ TableName: 'vecguard-state', Key: { pk: 'scope#1', sk: 'vpc#a' } }),
    );
    expect(got.Item).toEqual({ pk: 'scope#1', sk: 'vpc#a', mode: 'enforce', n: 1 });
    const queried = await doc.send(
      new QueryCommand({
        TableName: 'vecguard-state',
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :v)',
        ExpressionAttributeValues: { ':pk': 'scope#1', ':v': 'vpc#' },
      }),
    );
    expect(queried.Items?.map((i) => i.sk)).toEqual(['vpc#a', 'vpc#b']);
  });

  it('a conditional put on an existing key fails with ConditionalCheckFailedException', async () => {
    const doc = DynamoDBDocumentClient.from(client());
    const put = () =>
      doc.send(
        new PutCommand({
          TableName: 'vecguard-state',
          Item: { pk: 'approval#1', sk: 'request', status: 'pending' },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    await put();
    const error = await put().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConditionalCheckFailedException);
    expect(error).toMatchObject({ $metadata: { httpStatusCode: 400 } });
  });

  it('keeps accounts apart: a member account has its own tables', async () => {
    const member = client('AKIDMEMBERDDB');
    expect((await member.send(new ListTablesCommand({}))).TableNames).toEqual([]);
    await expect(
      member.send(new DescribeTableCommand({ TableName: 'vecguard-state' })),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
    expect(dynamo.scopes.sort()).toEqual([`${DEFAULT_ACCOUNT_ID}/${REGION}`, `${MEMBER}/${REGION}`]);
  });

  it('reports DynamoDB validation errors as the SDK expects', async () => {
    const error = await client()
      .send(new DescribeTableCommand({ TableName: 'x' }))
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'ValidationException', $metadata: { httpStatusCode: 400 } });
  });
});
