/**
 * SNS for the sandbox: `CreateTopic`, `DeleteTopic`, `ListTopics`, `Publish` (awsQuery, XML).
 *
 * There are no subscribers: every published message is kept (per account and Region) and handed to an
 * optional `onPublish` callback, which is how tests and the demo read vecguard's notifications.
 *
 * https://docs.aws.amazon.com/sns/latest/api/API_CreateTopic.html
 * https://docs.aws.amazon.com/sns/latest/api/API_Publish.html
 * https://docs.aws.amazon.com/sns/latest/api/API_ListTopics.html
 */
import { createHash, randomUUID } from 'node:crypto';
import * as snsModel from '@aws-sdk/client-sns';
import { AccountRegionStore } from '../account-region-store.ts';
import { AwsQueryError, type AwsQueryService, queryActionOf, serveAwsQuery } from '../aws-query.ts';
import type { SandboxClock } from '../clock.ts';
import type { SandboxRequest, SandboxResponse, ServiceEmulator } from '../service.ts';

const SNS: AwsQueryService = {
  xmlNamespace: 'http://sns.amazonaws.com/doc/2010-03-31/',
  version: '2010-03-31',
  model: snsModel as unknown as Record<string, unknown>,
};

export interface Topic {
  readonly arn: string;
  readonly name: string;
  readonly accountId: string;
  readonly region: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly tags: readonly { Key: string; Value: string }[];
  readonly fifo: boolean;
}

export interface PublishedAttribute {
  readonly DataType: string;
  readonly StringValue?: string;
  readonly BinaryValue?: Uint8Array;
}

export interface PublishedMessage {
  readonly messageId: string;
  readonly topicArn: string;
  readonly accountId: string;
  readonly region: string;
  readonly message: string;
  readonly subject?: string;
  readonly messageStructure?: string;
  readonly messageAttributes: Readonly<Record<string, PublishedAttribute>>;
  readonly messageGroupId?: string;
  readonly messageDeduplicationId?: string;
  readonly sequenceNumber?: string;
  /** Sandbox-clock epoch ms. */
  readonly publishedAt: number;
}

export interface SnsEmulatorOptions {
  readonly clock?: Pick<SandboxClock, 'now'>;
  /** Called for every accepted message, after it is stored. */
  readonly onPublish?: (message: PublishedMessage) => void;
  /** Topics per account and Region (AWS default quota 100,000). */
  readonly maxTopics?: number;
}

const TOPIC_NAME = /^[A-Za-z0-9_-]{1,256}$/;
const TOPIC_ARN = /^arn:aws[a-z-]*:sns:([a-z0-9-]+):(\d{12}):([A-Za-z0-9_.-]{1,256})$/;
/** Publish payload limit, message plus attributes: 256 KiB. */
const MAX_PAYLOAD_BYTES = 262_144;
const MAX_MESSAGE_ATTRIBUTES = 10;
const LIST_PAGE = 100;
const DEDUPLICATION_WINDOW_MS = 5 * 60_000;

interface Scope {
  readonly topics: Map<string, Topic>;
  readonly messages: PublishedMessage[];
}

export class SnsEmulator implements ServiceEmulator {
  readonly signingName = 'sns';
  readonly protocol = 'query' as const;

  private readonly clock: Pick<SandboxClock, 'now'>;
  private readonly maxTopics: number;
  private readonly scopes = new AccountRegionStore<Scope>(() => ({ topics: new Map(), messages: [] }));
  private readonly all: PublishedMessage[] = [];
  private readonly listeners = new Set<(message: PublishedMessage) => void>();
  private sequence = 10_000_000_000_000_000_000n;

  constructor(options: SnsEmulatorOptions = {}) {
    this.clock = options.clock ?? { now: () => Date.now() };
    this.maxTopics = options.maxTopics ?? 100_000;
    if (options.onPublish !== undefined) {
      this.listeners.add(options.onPublish);
    }
  }

  /** Every message published, in order, across accounts and Regions. */
  get published(): readonly PublishedMessage[] {
    return this.all;
  }

  /** Messages published to one topic. */
  messagesFor(topicArn: string): PublishedMessage[] {
    return this.all.filter((m) => m.topicArn === topicArn);
  }

  topics(accountId: string, region: string): Topic[] {
    return [...(this.scopes.find(accountId, region)?.topics.values() ?? [])];
  }

  /** Adds a listener; returns a function that removes it. */
  onPublish(listener: (message: PublishedMessage) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  actionOf(req: SandboxRequest): string {
    return queryActionOf(req);
  }

  handle(req: SandboxRequest): Promise<SandboxResponse> {
    return serveAwsQuery(SNS, req, 'InvalidParameter', (operation, input) => {
      const scope = this.scopes.of(req.accountId, req.region);
      switch (operation.name) {
        case 'CreateTopic':
          return this.createTopic(req, scope, input as unknown as snsModel.CreateTopicInput);
        case 'DeleteTopic':
          return this.deleteTopic(req, scope, input as unknown as snsModel.DeleteTopicInput);
        case 'ListTopics':
          return this.listTopics(scope, input as snsModel.ListTopicsInput);
        case 'Publish':
          return this.publish(req, scope, input as unknown as snsModel.PublishInput);
        default:
          throw new AwsQueryError('InvalidAction', `The sandbox does not implement SNS ${operation.name}`);
      }
    });
  }

  private createTopic(
    req: SandboxRequest,
    scope: Scope,
    input: snsModel.CreateTopicInput,
  ): snsModel.CreateTopicResponse {
    const name = input.Name;
    if (name === undefined) {
      throw invalidParameter('Name', 'no value for required parameter');
    }
    const attributes = { ...(input.Attributes ?? {}) };
    const fifo = attributes.FifoTopic === 'true';
    const base = fifo ? name.replace(/\.fifo$/, '') : name;
    if (!TOPIC_NAME.test(base) || (fifo && !name.endsWith('.fifo')) || (!fifo && name.endsWith('.fifo'))) {
      throw invalidParameter('Topic Name');
    }
    const arn = `arn:aws:sns:${req.region}:${req.accountId}:${name}`;
    const tags = (input.Tags ?? []).map((t) => ({ Key: t.Key ?? '', Value: t.Value ?? '' }));
    const existing = scope.topics.get(arn);
    if (existing !== undefined) {
      // CreateTopic is idempotent by name; a different attribute set is refused, not merged.
      if (!sameRecord(existing.attributes, attributes)) {
        throw invalidParameter('Attributes', 'Topic already exists with different attributes');
      }
      if (tags.length > 0 && !sameRecord(tagRecord(existing.tags), tagRecord(tags))) {
        throw invalidParameter('Tags', 'Topic already exists with different tags');
      }
      return { TopicArn: arn };
    }
    if (scope.topics.size >= this.maxTopics) {
      throw new AwsQueryError('TopicLimitExceeded', 'Topic limit exceeded', 403);
    }
    scope.topics.set(arn, {
      arn,
      name,
      accountId: req.accountId,
      region: req.region,
      attributes,
      tags,
      fifo,
    });
    return { TopicArn: arn };
  }

  private deleteTopic(req: SandboxRequest, scope: Scope, input: snsModel.DeleteTopicInput): object {
    const arn = this.checkTopicArn(req, input.TopicArn, 'TopicArn');
    scope.topics.delete(arn);
    return {};
  }

  private listTopics(scope: Scope, input: snsModel.ListTopicsInput): snsModel.ListTopicsResponse {
    const arns = [...scope.topics.keys()];
    let start = 0;
    if (input.NextToken !== undefined) {
      start = Number(Buffer.from(input.NextToken, 'base64url').toString('utf8'));
      if (!Number.isInteger(start) || start < 0 || start > arns.length) {
        throw invalidParameter('NextToken');
      }
    }
    const page = arns.slice(start, start + LIST_PAGE);
    const next = start + LIST_PAGE;
    return {
      Topics: page.map((TopicArn) => ({ TopicArn })),
      ...(next < arns.length ? { NextToken: Buffer.from(String(next)).toString('base64url') } : {}),
    };
  }

  private checkTopicArn(req: SandboxRequest, arn: string | undefined, parameter: string): string {
    if (arn === undefined || arn === '') {
      throw invalidParameter(parameter, 'no value for required parameter');
    }
    const match = TOPIC_ARN.exec(arn);
    if (match === null) {
      throw invalidParameter(parameter);
    }
    if (match[1] !== req.region) {
      throw invalidParameter(parameter, 'A ARN must be in the same region as the endpoint');
    }
    return arn;
  }

  private publish(req: SandboxRequest, scope: Scope, input: snsModel.PublishInput): snsModel.PublishResponse {
    if (input.PhoneNumber !== undefined) {
      throw invalidParameter('PhoneNumber', 'the sandbox publishes to topics only');
    }
    if (input.TopicArn !== undefined && input.TargetArn !== undefined) {
      throw invalidParameter('TopicArn or TargetArn', 'Only one of TopicArn or TargetArn may be specified');
    }
    const arn = this.checkTopicArn(req, input.TopicArn ?? input.TargetArn, 'TopicArn or TargetArn');
    const topic = scope.topics.get(arn);
    if (topic === undefined) {
      // Another account's topic is "not found" too: the sandbox has no cross-account topic policies.
      throw new AwsQueryError('NotFound', 'Topic does not exist', 404);
    }
    const message = input.Message;
    if (message === undefined) {
      throw new AwsQueryError(
        'ValidationError',
        "1 validation error detected: Value null at 'message' failed to satisfy constraint: Member must not be null",
      );
    }
    if (message === '') {
      throw invalidParameter('Empty message');
    }
    if (input.MessageStructure !== undefined) {
      if (input.MessageStructure !== 'json') {
        throw invalidParameter('MessageStructure');
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(message);
      } catch {
        throw invalidParameter('Message Structure - JSON message body failed to parse');
      }
      if (
        typeof parsed !== 'object' ||
        parsed === null ||
        typeof (parsed as { default?: unknown }).default !== 'string'
      ) {
        throw invalidParameter('Message Structure - No default entry in JSON message body');
      }
    }
    const subject = input.Subject;
    // Subjects: ASCII, no line breaks or control characters, at most 100 characters, not starting with a space.
    if (
      subject !== undefined &&
      (subject === '' || subject.length > 100 || !/^[\x20-\x7e]+$/.test(subject) || /^\s/.test(subject))
    ) {
      throw invalidParameter('Subject');
    }
    const attributes = this.checkAttributes(input.MessageAttributes ?? {});
    let size = Buffer.byteLength(message);
    for (const [name, value] of Object.entries(attributes)) {
      size += Buffer.byteLength(name) + Buffer.byteLength(value.DataType);
      size +=
        value.StringValue === undefined
          ? (value.BinaryValue?.byteLength ?? 0)
          : Buffer.byteLength(value.StringValue);
    }
    if (size > MAX_PAYLOAD_BYTES) {
      throw invalidParameter('Message too long');
    }

    let sequenceNumber: string | undefined;
    let deduplicationId = input.MessageDeduplicationId;
    if (topic.fifo) {
      if (input.MessageGroupId === undefined) {
        throw invalidParameter('The MessageGroupId parameter is required for FIFO topics');
      }
      if (deduplicationId === undefined) {
        if (topic.attributes.ContentBasedDeduplication !== 'true') {
          throw invalidParameter(
            'The topic should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly',
          );
        }
        deduplicationId = sha256Hex(message);
      }
      // A FIFO topic swallows a repeated deduplication id within five minutes and returns the first message's id.
      const now = this.clock.now();
      const duplicate = scope.messages.find(
        (m) =>
          m.topicArn === arn &&
          m.messageDeduplicationId === deduplicationId &&
          now - m.publishedAt < DEDUPLICATION_WINDOW_MS,
      );
      if (duplicate !== undefined) {
        return { MessageId: duplicate.messageId, SequenceNumber: duplicate.sequenceNumber };
      }
      this.sequence += 1n;
      sequenceNumber = this.sequence.toString();
    } else if (input.MessageGroupId !== undefined || input.MessageDeduplicationId !== undefined) {
      // Standard topics accept MessageGroupId (since 2024) but not a deduplication id.
      if (input.MessageDeduplicationId !== undefined) {
        throw invalidParameter(
          'MessageDeduplicationId',
          'The request includes MessageDeduplicationId parameter that is not valid for this topic type',
        );
      }
    }

    const published: PublishedMessage = {
      messageId: randomUUID(),
      topicArn: arn,
      accountId: req.accountId,
      region: req.region,
      message,
      ...(subject === undefined ? {} : { subject }),
      ...(input.MessageStructure === undefined ? {} : { messageStructure: input.MessageStructure }),
      messageAttributes: attributes,
      ...(input.MessageGroupId === undefined ? {} : { messageGroupId: input.MessageGroupId }),
      ...(deduplicationId === undefined || !topic.fifo ? {} : { messageDeduplicationId: deduplicationId }),
      ...(sequenceNumber === undefined ? {} : { sequenceNumber }),
      publishedAt: this.clock.now(),
    };
    scope.messages.push(published);
    this.all.push(published);
    for (const listener of this.listeners) {
      listener(published);
    }
    return {
      MessageId: published.messageId,
      ...(sequenceNumber === undefined ? {} : { SequenceNumber: sequenceNumber }),
    };
  }

  /**
   * https://docs.aws.amazon.com/sns/latest/dg/sns-message-attributes.html. SNS answers these with the code
   * `ParameterValueInvalid`, which the SDK maps to `InvalidParameterValueException`.
   */
  private checkAttributes(
    attributes: Record<string, snsModel.MessageAttributeValue>,
  ): Record<string, PublishedAttribute> {
    const names = Object.keys(attributes);
    if (names.length > MAX_MESSAGE_ATTRIBUTES) {
      throw new AwsQueryError(
        'ParameterValueInvalid',
        `Number of message attributes [${names.length}] exceeds the allowed maximum [${MAX_MESSAGE_ATTRIBUTES}].`,
      );
    }
    const out: Record<string, PublishedAttribute> = {};
    for (const name of names) {
      const value = attributes[name] as snsModel.MessageAttributeValue;
      if (
        name.length > 256 ||
        !/^[A-Za-z0-9_.-]+$/.test(name) ||
        name.startsWith('.') ||
        name.endsWith('.') ||
        name.includes('..') ||
        /^(aws|amazon)\./i.test(name)
      ) {
        throw new AwsQueryError('ParameterValueInvalid', `Message attribute name '${name}' is invalid.`);
      }
      const dataType = value.DataType ?? '';
      const baseType = dataType.split('.')[0];
      if (baseType !== 'String' && baseType !== 'Number' && baseType !== 'Binary') {
        throw new AwsQueryError(
          'ParameterValueInvalid',
          `The message attribute '${name}' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String.`,
        );
      }
      if (baseType === 'Binary') {
        if (value.BinaryValue === undefined || value.BinaryValue.byteLength === 0) {
          throw new AwsQueryError(
            'ParameterValueInvalid',
            `The message attribute '${name}' must contain non-empty message attribute value for message attribute type '${dataType}'.`,
          );
        }
        out[name] = { DataType: dataType, BinaryValue: value.BinaryValue };
        continue;
      }
      if (value.StringValue === undefined || value.StringValue === '') {
        throw new AwsQueryError(
          'ParameterValueInvalid',
          `The message attribute '${name}' must contain non-empty message attribute value for message attribute type '${dataType}'.`,
        );
      }
      if (baseType === 'Number' && !Number.isFinite(Number(value.StringValue))) {
        throw new AwsQueryError(
          'ParameterValueInvalid',
          `Could not cast message attribute '${name}' value to number.`,
        );
      }
      if (dataType === 'String.Array') {
        try {
          if (!Array.isArray(JSON.parse(value.StringValue))) {
            throw new Error('not an array');
          }
        } catch {
          throw new AwsQueryError(
            'ParameterValueInvalid',
            `The message attribute '${name}' with type 'String.Array' must use field 'String'.`,
          );
        }
      }
      out[name] = { DataType: dataType, StringValue: value.StringValue };
    }
    return out;
  }
}

/** A service factory for `startSandboxServer({ services: [sns()] })`, on the sandbox clock. */
export function sns(
  options: Omit<SnsEmulatorOptions, 'clock'> = {},
): (context: { clock: SandboxClock }) => SnsEmulator {
  return (context) => new SnsEmulator({ ...options, clock: context.clock });
}

/** SNS words every parameter problem as `Invalid parameter: <what>[ Reason: <why>]`. */
function invalidParameter(what: string, reason?: string): AwsQueryError {
  return new AwsQueryError(
    'InvalidParameter',
    `Invalid parameter: ${what}${reason === undefined ? '' : ` Reason: ${reason}`}`,
  );
}

function sameRecord(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}

function tagRecord(tags: readonly { Key: string; Value: string }[]): Record<string, string> {
  return Object.fromEntries(tags.map((t) => [t.Key, t.Value]));
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
