import {
  CreateTopicCommand,
  InvalidParameterException,
  InvalidParameterValueException,
  ListTopicsCommand,
  NotFoundException,
  PublishCommand,
  paginateListTopics,
  SNSClient,
} from '@aws-sdk/client-sns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_ACCOUNT_ID } from '../src/credentials.ts';
import { type SandboxHandle, startSandboxServer } from '../src/server.ts';
import { type PublishedMessage, type SnsEmulator, sns } from '../src/sns/emulator.ts';

describe('sandbox SNS', () => {
  const heard: PublishedMessage[] = [];
  let sandbox: SandboxHandle;
  let snsEmulator: SnsEmulator;
  let client: SNSClient;

  beforeAll(async () => {
    sandbox = await startSandboxServer({
      clock: { speed: 0 },
      services: [sns({ onPublish: (m) => heard.push(m) })],
    });
    sandbox.registerCredentials('AKIDOTHERACCOUNT', '333333333333');
    snsEmulator = sandbox.router.service('sns') as SnsEmulator;
    client = new SNSClient({
      endpoint: sandbox.url,
      region: 'eu-west-1',
      credentials: sandbox.clientCredentials,
      maxAttempts: 1,
    });
  });
  afterAll(() => sandbox.stop());

  it('CreateTopic is idempotent by name and refuses the same name with other attributes', async () => {
    const first = await client.send(
      new CreateTopicCommand({ Name: 'vecguard-reports', Attributes: { DisplayName: 'vg' } }),
    );
    expect(first.TopicArn).toBe(`arn:aws:sns:eu-west-1:${DEFAULT_ACCOUNT_ID}:vecguard-reports`);
    const again = await client.send(
      new CreateTopicCommand({ Name: 'vecguard-reports', Attributes: { DisplayName: 'vg' } }),
    );
    expect(again.TopicArn).toBe(first.TopicArn);
    expect(snsEmulator.topics(DEFAULT_ACCOUNT_ID, 'eu-west-1')).toHaveLength(1);

    const clash = await client
      .send(new CreateTopicCommand({ Name: 'vecguard-reports', Attributes: { DisplayName: 'other' } }))
      .catch((e: unknown) => e);
    expect(clash).toBeInstanceOf(InvalidParameterException);
    expect((clash as Error).message).toBe(
      'Invalid parameter: Attributes Reason: Topic already exists with different attributes',
    );
    await expect(client.send(new CreateTopicCommand({ Name: 'bad name!' }))).rejects.toBeInstanceOf(
      InvalidParameterException,
    );
  });

  it('Publish stores the message with subject and attributes for the reader and the callback', async () => {
    const { TopicArn } = await client.send(new CreateTopicCommand({ Name: 'vecguard-approvals' }));
    const result = await client.send(
      new PublishCommand({
        TopicArn,
        Subject: 'vecguard: 2 VPCs need approval',
        Message: JSON.stringify({ vpcs: ['vpc-1', 'vpc-2'] }),
        MessageAttributes: {
          kind: { DataType: 'String', StringValue: 'approval' },
          count: { DataType: 'Number', StringValue: '2' },
          blob: { DataType: 'Binary', BinaryValue: new Uint8Array([1, 2, 3]) },
        },
      }),
    );
    expect(result.MessageId).toMatch(/^[0-9a-f-]{36}$/);
    const stored = snsEmulator.messagesFor(TopicArn ?? '');
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({
      messageId: result.MessageId,
      accountId: DEFAULT_ACCOUNT_ID,
      region: 'eu-west-1',
      subject: 'vecguard: 2 VPCs need approval',
      message: '{"vpcs":["vpc-1","vpc-2"]}',
      messageAttributes: {
        kind: { DataType: 'String', StringValue: 'approval' },
        count: { DataType: 'Number', StringValue: '2' },
        blob: { DataType: 'Binary', BinaryValue: new Uint8Array([1, 2, 3]) },
      },
    });
    expect(heard.at(-1)?.messageId).toBe(result.MessageId);
    expect(snsEmulator.published.at(-1)?.messageId).toBe(result.MessageId);
  });

  it("Publish to an unknown topic is NotFoundException; to another account's topic too", async () => {
    const error = await client
      .send(
        new PublishCommand({ TopicArn: `arn:aws:sns:eu-west-1:${DEFAULT_ACCOUNT_ID}:nope`, Message: 'x' }),
      )
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotFoundException);
    expect(error).toMatchObject({ message: 'Topic does not exist', $metadata: { httpStatusCode: 404 } });

    const other = new SNSClient({
      endpoint: sandbox.url,
      region: 'eu-west-1',
      credentials: { accessKeyId: 'AKIDOTHERACCOUNT', secretAccessKey: 'x' },
      maxAttempts: 1,
    });
    await expect(
      other.send(
        new PublishCommand({
          TopicArn: `arn:aws:sns:eu-west-1:${DEFAULT_ACCOUNT_ID}:vecguard-reports`,
          Message: 'x',
        }),
      ),
    ).rejects.toBeInstanceOf(NotFoundException);
    expect((await other.send(new ListTopicsCommand({}))).Topics ?? []).toEqual([]);
  });

  it('Publish validates subject, message, attributes and ARN as SNS does', async () => {
    const TopicArn = `arn:aws:sns:eu-west-1:${DEFAULT_ACCOUNT_ID}:vecguard-reports`;
    const cases: Array<[object, new (...args: never[]) => Error, string]> = [
      [
        { TopicArn, Message: 'x', Subject: 'line\nbreak' },
        InvalidParameterException,
        'Invalid parameter: Subject',
      ],
      [
        { TopicArn, Message: 'x', Subject: 'x'.repeat(101) },
        InvalidParameterException,
        'Invalid parameter: Subject',
      ],
      [{ TopicArn, Message: '' }, InvalidParameterException, 'Invalid parameter: Empty message'],
      [
        { TopicArn, Message: 'x'.repeat(262_145) },
        InvalidParameterException,
        'Invalid parameter: Message too long',
      ],
      [
        { TopicArn: 'not-an-arn', Message: 'x' },
        InvalidParameterException,
        'Invalid parameter: TopicArn or TargetArn',
      ],
      [
        { TopicArn, Message: 'x', MessageAttributes: { n: { DataType: 'Number', StringValue: 'abc' } } },
        InvalidParameterValueException,
        "Could not cast message attribute 'n' value to number.",
      ],
      [
        { TopicArn, Message: 'x', MessageAttributes: { e: { DataType: 'String', StringValue: '' } } },
        InvalidParameterValueException,
        "The message attribute 'e' must contain non-empty message attribute value for message attribute type 'String'.",
      ],
      [
        { TopicArn, Message: '{"email":"x"}', MessageStructure: 'json' },
        InvalidParameterException,
        'Invalid parameter: Message Structure - No default entry in JSON message body',
      ],
    ];
    const before = snsEmulator.published.length;
    for (const [input, type, message] of cases) {
      const error = await client.send(new PublishCommand(input as never)).catch((e: unknown) => e);
      expect(error, message).toBeInstanceOf(type);
      expect((error as Error).message).toBe(message);
    }
    expect(snsEmulator.published.length).toBe(before);
  });

  it('ListTopics pages by 100 with NextToken', async () => {
    for (let i = 0; i < 105; i++) {
      await client.send(new CreateTopicCommand({ Name: `bulk-${i}` }));
    }
    const first = await client.send(new ListTopicsCommand({}));
    expect(first.Topics).toHaveLength(100);
    expect(first.NextToken).toBeDefined();
    const arns: string[] = [];
    for await (const page of paginateListTopics({ client }, {})) {
      arns.push(...(page.Topics ?? []).map((t) => t.TopicArn ?? ''));
    }
    expect(arns).toHaveLength(107);
    expect(new Set(arns).size).toBe(107);
    await expect(client.send(new ListTopicsCommand({ NextToken: 'garbage' }))).rejects.toBeInstanceOf(
      InvalidParameterException,
    );
  });

  it('a FIFO topic needs a group id and deduplicates by content', async () => {
    const { TopicArn } = await client.send(
      new CreateTopicCommand({
        Name: 'vecguard.fifo',
        Attributes: { FifoTopic: 'true', ContentBasedDeduplication: 'true' },
      }),
    );
    await expect(client.send(new PublishCommand({ TopicArn, Message: 'a' }))).rejects.toThrow(
      'Invalid parameter: The MessageGroupId parameter is required for FIFO topics',
    );
    const one = await client.send(new PublishCommand({ TopicArn, Message: 'a', MessageGroupId: 'g' }));
    const two = await client.send(new PublishCommand({ TopicArn, Message: 'a', MessageGroupId: 'g' }));
    expect(one.SequenceNumber).toBeDefined();
    expect(two.MessageId).toBe(one.MessageId);
    expect(snsEmulator.messagesFor(TopicArn ?? '')).toHaveLength(1);
  });
});
