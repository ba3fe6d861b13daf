/**
 * Where vecguard keeps what it could not deliver or process, to be read and redriven: encrypted, TLS only,
 * kept for SQS's longest retention.
 */
import { Duration, Validations } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';

/** `whatFor` completes "This queue is the dead-letter queue of …" for cdk-nag's SQS3 acknowledgement. */
export function deadLetterQueue(scope: Construct, id: string, whatFor: string): sqs.Queue {
  const queue = new sqs.Queue(scope, id, {
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
  });
  // SQS3 asks a queue for a dead-letter queue of its own; this one is the end of the line.
  Validations.of(queue).acknowledge({
    id: 'AwsSolutions-SQS3',
    reason: `This queue is the dead-letter queue of ${whatFor}.`,
  });
  return queue;
}
