/**
 * Publishes a notification (built by functions/domain/notifications.ts) to the vecguard SNS topic, with
 * `kind`, `account` and `region` as message attributes so that subscriptions can filter (approvals to the
 * security team, run reports to a channel, failures to on-call).
 * https://docs.aws.amazon.com/sns/latest/dg/sns-message-filtering.html
 */
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { Notification } from '../domain/notifications.ts';
import { toAwsCallError } from '../shared/errors.ts';

export async function notify(
  sns: SNSClient,
  topicArn: string,
  notification: Notification,
): Promise<{ messageId: string }> {
  try {
    const output = await sns.send(
      new PublishCommand({
        TopicArn: topicArn,
        Subject: notification.subject,
        Message: notification.message,
        MessageAttributes: Object.fromEntries(
          Object.entries(notification.attributes).map(([name, value]) => [
            name,
            { DataType: 'String', StringValue: value },
          ]),
        ),
      }),
    );
    return { messageId: output.MessageId ?? '' };
  } catch (error) {
    throw toAwsCallError(error, 'sns', 'Publish');
  }
}
