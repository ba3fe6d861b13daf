/**
 * A member account's half of event delivery: rules on this account's default event bus that send the
 * CloudTrail EC2 calls and AWS Config changes the hub acts on (the very patterns of the hub's rules,
 * ../event-patterns.ts) to the hub's default event bus, where the hub's rules start the loop for this
 * account's scope. Without it a member change waits for the next sweep.
 *
 * EventBridge keeps the member account and Region in the forwarded event's envelope, which is what the
 * on-event function takes the scope from. The hub's bus must admit this account (the hub stack's
 * `memberAccountIds` or `organizationId`); an event it refuses, or that cannot be delivered after
 * EventBridge's retries, lands in an encrypted queue here, to be read and redriven.
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-cross-account.html
 */
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { cloudTrailEventPattern, configEventPattern } from '../event-patterns.ts';
import { deadLetterQueue } from './dead-letter-queue.ts';

export interface EventForwarderProps {
  /** The hub's default event bus, in the hub's account and Region: where its rules listen. */
  readonly hubEventBus: events.IEventBus;
}

export class EventForwarder extends Construct {
  readonly deadLetterQueue: sqs.Queue;
  /** Assumed by EventBridge to put the events on the hub's bus; it may do nothing else. */
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: EventForwarderProps) {
    super(scope, id);
    this.deadLetterQueue = deadLetterQueue(
      this,
      'DeadLetters',
      "the forwarding rules' target (the hub's event bus)",
    );
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('events.amazonaws.com'),
      description: "vecguard: forwards this account's encryption-relevant events to the hub's event bus",
    });
    // The target grants the role events:PutEvents on the hub's bus, and nothing else.
    const target = new targets.EventBus(props.hubEventBus, {
      role: this.role,
      deadLetterQueue: this.deadLetterQueue,
    });
    new events.Rule(this, 'CloudTrailRule', {
      description: "vecguard: forward EC2 API calls that change encryption in transit to the hub's bus",
      eventPattern: cloudTrailEventPattern(),
      targets: [target],
    });
    new events.Rule(this, 'ConfigRule', {
      description: "vecguard: forward AWS Config changes that affect encryption in transit to the hub's bus",
      eventPattern: configEventPattern(),
      targets: [target],
    });
  }
}
