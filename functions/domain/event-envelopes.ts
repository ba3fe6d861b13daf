/**
 * The EventBridge events inside what people hold when they rehearse or investigate: an event as EventBridge
 * delivers it, an SNS message or a Lambda SNS/SQS batch carrying one, a raw CloudTrail record, or a CloudTrail
 * log file (`{"Records": [...]}`). Each comes out as the EventBridge event the on-event function would
 * receive, for `classifyEvent` (./triggers.ts) to decide on — the same classifier the deployed function uses,
 * so a rehearsal answers what a deployment would.
 *
 * How EventBridge wraps a CloudTrail record ("AWS API Call via CloudTrail", `source` `aws.<service>`, the
 * record as `detail`, the record's account, Region and time in the envelope):
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-service-event-cloudtrail.html ; the log file's
 * `Records` array: https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-log-file-examples.html ;
 * an SNS notification's `Message` string: https://docs.aws.amazon.com/sns/latest/dg/sns-message-and-json-formats.html ;
 * Lambda's SNS and SQS batches (`Records[].Sns.Message`, `Records[].body`):
 * https://docs.aws.amazon.com/lambda/latest/dg/with-sns.html , https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html
 *
 * Pure: it never throws, and anything it cannot unwrap is handed on as it is, so that the classifier's own
 * reason (what is wrong, what was expected) is the one reported.
 */

/** One event found in a document: where it sat, how it was carried, and the EventBridge event itself. */
export interface FoundEvent {
  /** Its place in the document, as a path: `(document)`, `[3]`, `Records[12]`, `Records[0].Sns.Message`. */
  readonly at: string;
  /** The wrappers it came out of, outermost first: `sns`, `sqs`, `cloudtrail-record`. Empty: delivered as is. */
  readonly via: readonly string[];
  /** The event as EventBridge delivers it to the on-event function (or what was found, when it is not one). */
  readonly event: unknown;
  /** Why a wrapper could not be opened (an SNS Message that is not JSON); the event is then `undefined`. */
  readonly invalid?: string;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it removes
const CONTROL = /[\u0000-\u001f\u007f]+/g;

/** Wrappers inside wrappers past this depth are not opened (an SNS message carrying itself, forever). */
const MAX_DEPTH = 4;

/** Every EventBridge event in a parsed JSON document, in document order. */
export function eventsIn(document: unknown): FoundEvent[] {
  const found: FoundEvent[] = [];
  unwrap(document, '', [], found);
  return found;
}

function unwrap(value: unknown, at: string, via: readonly string[], out: FoundEvent[]): void {
  const where = at === '' ? '(document)' : at;
  if (via.length > MAX_DEPTH) {
    out.push({ at: where, via, event: undefined, invalid: `wrapped more than ${MAX_DEPTH} times` });
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((item, i) => {
      unwrap(item, `${at}[${i}]`, via, out);
    });
    return;
  }
  const o = asRecord(value);
  if (o === undefined || 'detail-type' in o) {
    out.push({ at: where, via, event: value });
    return;
  }
  if (o.Type === 'Notification' && typeof o.Message === 'string') {
    openJson(o.Message, `${at === '' ? '' : `${at}.`}Message`, [...via, 'sns'], out);
    return;
  }
  if (Array.isArray(o.Records)) {
    o.Records.forEach((record, i) => {
      unwrapRecord(record, `${at === '' ? '' : `${at}.`}Records[${i}]`, via, out);
    });
    return;
  }
  if (isCloudTrailRecord(o)) {
    out.push({ at: where, via: [...via, 'cloudtrail-record'], event: asEventBridgeEvent(o) });
    return;
  }
  out.push({ at: where, via, event: value });
}

/** One element of a `Records` array: a CloudTrail record, an SNS record or an SQS message. */
function unwrapRecord(record: unknown, at: string, via: readonly string[], out: FoundEvent[]): void {
  const r = asRecord(record);
  const sns = asRecord(r?.Sns);
  if (sns !== undefined && typeof sns.Message === 'string') {
    openJson(sns.Message, `${at}.Sns.Message`, [...via, 'sns'], out);
    return;
  }
  if (r !== undefined && r.eventSource === 'aws:sqs' && typeof r.body === 'string') {
    openJson(r.body, `${at}.body`, [...via, 'sqs'], out);
    return;
  }
  unwrap(record, at, via, out);
}

function openJson(text: string, at: string, via: readonly string[], out: FoundEvent[]): void {
  let inner: unknown;
  try {
    inner = JSON.parse(text);
  } catch (error) {
    out.push({
      at,
      via,
      event: undefined,
      invalid: `the ${via.at(-1) === 'sqs' ? 'SQS' : 'SNS'} message is not JSON (${(error instanceof Error ? error.message : String(error)).replace(CONTROL, ' ')}); expected an EventBridge event inside`,
    });
    return;
  }
  unwrap(inner, at, via, out);
}

/** A CloudTrail record, as in a log file or the console's event history: it names its call and its version. */
function isCloudTrailRecord(o: Record<string, unknown>): boolean {
  return 'eventVersion' in o && 'eventName' in o && 'eventSource' in o && !('detail' in o);
}

/** CloudTrail's `eventType` → EventBridge's `detail-type` for it. */
const DETAIL_TYPE_OF_EVENT_TYPE: Readonly<Record<string, string>> = {
  AwsApiCall: 'AWS API Call via CloudTrail',
  AwsServiceEvent: 'AWS Service Event via CloudTrail',
  AwsConsoleAction: 'AWS Console Action via CloudTrail',
  AwsConsoleSignIn: 'AWS Console Sign In via CloudTrail',
};

/**
 * The event EventBridge makes of a CloudTrail record. Its `id` is the record's `eventID` (EventBridge's own
 * id is not in the record; the classifier names CloudTrail runs by `eventID` anyway). Fields the record lacks
 * stay absent, so that the classifier says which.
 */
function asEventBridgeEvent(record: Record<string, unknown>): Record<string, unknown> {
  const eventSource = typeof record.eventSource === 'string' ? record.eventSource : '';
  const service = eventSource.endsWith('.amazonaws.com')
    ? eventSource.slice(0, -'.amazonaws.com'.length)
    : '';
  const eventType = typeof record.eventType === 'string' ? record.eventType : 'AwsApiCall';
  const identity = asRecord(record.userIdentity);
  const event: Record<string, unknown> = {
    version: '0',
    id: record.eventID,
    'detail-type': DETAIL_TYPE_OF_EVENT_TYPE[eventType] ?? `${eventType} via CloudTrail`,
    source: service === '' ? eventSource : `aws.${service}`,
    // The account the call happened in: the log's recipient (an organisation trail holds many accounts).
    account: record.recipientAccountId ?? identity?.accountId,
    time: record.eventTime,
    region: record.awsRegion,
    resources: [],
    detail: record,
  };
  for (const key of Object.keys(event)) if (event[key] === undefined) delete event[key];
  return event;
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}
