/**
 * The SNS topic vecguard notifies: approval requests, run reports, failures. Messages name VPCs, accounts
 * and costs, so the topic is encrypted with a customer-managed key (rotated) and refuses non-TLS publishers.
 */
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

export interface NotificationTopicProps {
  /** @default - a new key with yearly rotation */
  readonly masterKey?: kms.IKey;
}

export class NotificationTopic extends Construct {
  readonly topic: sns.Topic;

  constructor(scope: Construct, id: string, props: NotificationTopicProps = {}) {
    super(scope, id);
    const masterKey =
      props.masterKey ??
      new kms.Key(this, 'Key', {
        description: 'vecguard notifications (SNS)',
        enableKeyRotation: true,
      });
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: 'vecguard',
      masterKey,
      enforceSSL: true,
    });
  }
}
