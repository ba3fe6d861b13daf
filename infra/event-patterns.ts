/**
 * The events vecguard reacts to, in one place, so that the hub's rules (./constructs/event-triggers.ts) and a
 * member account's forwarding rule (./constructs/event-forwarder.ts) match the same events: a member change
 * the hub would act on is forwarded, and nothing the classifier ignores crosses accounts.
 *
 * Neither pattern names an `account`: events forwarded from member accounts keep their own account in the
 * envelope, and the hub's rules must match them (functions/domain/triggers.ts takes the scope from it).
 */
import type * as events from 'aws-cdk-lib/aws-events';
import {
  CLOUDTRAIL_CALLS,
  CONFIG_RESOURCE_TYPES,
  TRANSIT_GATEWAY_PREFIX,
} from '../functions/domain/triggers.ts';

/** The successful EC2 calls the classifier acts on (`CLOUDTRAIL_CALLS`). */
export function cloudTrailEventPattern(): events.EventPattern {
  return {
    source: ['aws.ec2'],
    detailType: ['AWS API Call via CloudTrail'],
    detail: {
      eventSource: ['ec2.amazonaws.com'],
      eventName: Object.keys(CLOUDTRAIL_CALLS).sort(),
      // A failed call changed nothing.
      errorCode: [{ exists: false }],
    },
  };
}

/**
 * AWS Config changes of the resource types the classifier acts on: anything else it ignores, so the rule does
 * not deliver it. The Transit Gateway family is matched by prefix.
 */
export function configEventPattern(): events.EventPattern {
  const resourceTypes = [...CONFIG_RESOURCE_TYPES, { prefix: TRANSIT_GATEWAY_PREFIX }];
  return {
    source: ['aws.config'],
    detailType: ['Config Configuration Item Change'],
    detail: {
      messageType: ['ConfigurationItemChangeNotification', 'OversizedConfigurationItemChangeNotification'],
      // An oversized change carries only the summary.
      $or: [
        { configurationItem: { resourceType: resourceTypes } },
        { configurationItemSummary: { resourceType: resourceTypes } },
      ],
    },
  };
}
