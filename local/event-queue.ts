/**
 * The events queue of a deployment, locally: what EventBridge sends is held for the batching window (or until
 * a batch is full), then handed to on-event as one SQS event, each message shaped as Lambda's event source
 * mapping delivers it (`messageId`, `receiptHandle`, `body`, `attributes`, `md5OfBody`, `eventSource`,
 * `eventSourceARN`, `awsRegion`).
 * https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html
 */
import { createHash, randomUUID } from 'node:crypto';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import type { EventOutcome } from '../functions/handlers/on-event.ts';

export interface EventQueueOptions {
  /** How long the first message of a batch waits for others, in real milliseconds. */
  readonly windowMs: number;
  readonly batchSize: number;
  readonly region: string;
  readonly queueArn: string;
  /** The sandbox clock (for SentTimestamp). */
  readonly now: () => number;
  /** on-event: one outcome per record, in order. */
  readonly process: (batch: SQSEvent) => Promise<EventOutcome[]>;
}

interface Waiting {
  readonly record: SQSRecord;
  resolve(outcome: EventOutcome): void;
  reject(error: unknown): void;
}

export class EventQueue {
  private readonly options: EventQueueOptions;
  private waiting: Waiting[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** Batches are handed on one at a time, in order, as one event source mapping poller would. */
  private chain: Promise<void> = Promise.resolve();

  constructor(options: EventQueueOptions) {
    this.options = options;
  }

  /** Queue one event; resolves with what on-event made of it once its batch was processed. */
  send(event: unknown): Promise<EventOutcome> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ record: this.record(event), resolve, reject });
      if (this.waiting.length >= this.options.batchSize) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.options.windowMs);
    });
  }

  private flush(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.waiting.splice(0, this.options.batchSize);
    if (this.waiting.length > 0) this.timer = setTimeout(() => this.flush(), this.options.windowMs);
    if (batch.length === 0) return;
    this.chain = this.chain.then(async () => {
      try {
        const outcomes = await this.options.process({ Records: batch.map((w) => w.record) });
        batch.forEach((w, i) => {
          const outcome = outcomes[i];
          if (outcome === undefined) w.reject(new Error('on-event answered no outcome for the message'));
          else w.resolve(outcome);
        });
      } catch (error) {
        for (const w of batch) w.reject(error);
      }
    });
  }

  private record(event: unknown): SQSRecord {
    const body = JSON.stringify(event);
    const sent = String(this.options.now());
    return {
      messageId: randomUUID(),
      receiptHandle: randomUUID(),
      body,
      attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: sent,
        SenderId: 'AIDAEVENTBRIDGE',
        ApproximateFirstReceiveTimestamp: sent,
      },
      messageAttributes: {},
      md5OfBody: createHash('md5').update(body).digest('hex'),
      eventSource: 'aws:sqs',
      eventSourceARN: this.options.queueArn,
      awsRegion: this.options.region,
    };
  }
}
