/**
 * Events as EventBridge delivers them to the on-event function, for the local runtime to deliver: the
 * schedule rule's "Scheduled Event" (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-run-lambda-schedule.html).
 */
import { createHash } from 'node:crypto';

/** A "Scheduled Event" of the sweep rule in a scope, at `time`; `n` makes each delivery's id its own. */
export function scheduledEvent(scope: { accountId: string; region: string }, time: Date, n: number) {
  const at = time.toISOString().replace(/\.\d{3}Z$/, 'Z');
  return {
    version: '0',
    id: uuidFrom(`schedule|${scope.accountId}|${scope.region}|${at}|${n}`),
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: scope.accountId,
    time: at,
    region: scope.region,
    resources: [`arn:aws:events:${scope.region}:${scope.accountId}:rule/vecguard-sweep`],
    detail: {},
  };
}

/** A version-4-shaped UUID from the scope, the sandbox time and the delivery's number: each delivery its own id. */
function uuidFrom(seed: string): string {
  const h = createHash('sha256').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
