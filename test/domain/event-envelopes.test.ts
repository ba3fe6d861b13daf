/**
 * Unwrapping what people hold into the EventBridge events the on-event function receives: an event as is, an
 * SNS notification, a Lambda SNS or SQS batch, a raw CloudTrail record, a CloudTrail log file — and the
 * classifier then decides on each exactly as on a delivered event.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { eventsIn } from '../../functions/domain/event-envelopes.ts';
import { classifyEvent } from '../../functions/domain/triggers.ts';

const fixture = (dir: string, name: string): unknown =>
  JSON.parse(readFileSync(join(import.meta.dirname, '../fixtures', dir, name), 'utf8'));
const createVpc = fixture('events', 'cloudtrail-create-vpc.json') as Record<string, unknown>;

describe('eventsIn', () => {
  it('an EventBridge event is itself, delivered as is', () => {
    expect(eventsIn(createVpc)).toEqual([{ at: '(document)', via: [], event: createVpc }]);
  });

  it('a raw CloudTrail record becomes the event EventBridge makes of it, which the classifier runs on', () => {
    const [found] = eventsIn(createVpc.detail);
    expect(found?.via).toEqual(['cloudtrail-record']);
    expect(found?.event).toMatchObject({
      'detail-type': 'AWS API Call via CloudTrail',
      source: 'aws.ec2',
      account: '111111111111',
      region: 'us-east-1',
      time: '2026-11-24T01:30:00Z',
      detail: createVpc.detail,
    });
    // The same decision as for the event EventBridge delivered, but for the event id: EventBridge's envelope
    // id is part of it, and a bare record has none (its own eventID stands in).
    const withoutIds = (d: ReturnType<typeof classifyEvent>) =>
      d.kind === 'run' ? d.triggers.map(({ eventId: _id, ...t }) => t) : d;
    expect(withoutIds(classifyEvent(found?.event))).toEqual(withoutIds(classifyEvent(createVpc)));
  });

  it('a CloudTrail log file gives one event a record, each in its own account and Region', () => {
    const found = eventsIn(fixture('event-files', 'cloudtrail-log-file.json'));
    expect(found.map((f) => f.at)).toEqual([
      'Records[0]',
      'Records[1]',
      'Records[2]',
      'Records[3]',
      'Records[4]',
    ]);
    expect(found.map((f) => classifyEvent(f.event).kind)).toEqual([
      'ignored',
      'run',
      'ignored',
      'run',
      'invalid',
    ]);
    expect(found[3]?.event).toMatchObject({ account: '222222222222', region: 'eu-west-1' });
  });

  it('an SNS notification and a Lambda SNS batch are opened; a Message that is not JSON is invalid, saying so', () => {
    expect(eventsIn(fixture('event-files', 'sns-notification.json'))).toEqual([
      { at: 'Message', via: ['sns'], event: createVpc },
    ]);
    const batch = eventsIn(fixture('event-files', 'lambda-sns-batch.json'));
    expect(batch.map((f) => [f.at, f.via])).toEqual([
      ['Records[0].Sns.Message', ['sns']],
      ['Records[1].Sns.Message', ['sns']],
    ]);
    expect(batch[1]?.invalid).toMatch(
      /^the SNS message is not JSON \(.*\); expected an EventBridge event inside$/,
    );
  });

  it('an SQS batch (EventBridge → SQS) is opened by its bodies', () => {
    const found = eventsIn({
      Records: [{ messageId: 'm1', eventSource: 'aws:sqs', body: JSON.stringify(createVpc) }],
    });
    expect(found).toEqual([{ at: 'Records[0].body', via: ['sqs'], event: createVpc }]);
  });

  it('an array holds events; what is none of the shapes goes to the classifier as it is, for its reason', () => {
    const found = eventsIn([createVpc, 42, { hello: 'world' }]);
    expect(found.map((f) => [f.at, f.event])).toEqual([
      ['[0]', createVpc],
      ['[1]', 42],
      ['[2]', { hello: 'world' }],
    ]);
    expect(classifyEvent(found[1]?.event)).toMatchObject({ kind: 'invalid' });
  });

  it('a message wrapping itself too deep stops with a reason', () => {
    let wrapped: unknown = createVpc;
    for (let i = 0; i < 8; i++) wrapped = { Type: 'Notification', Message: JSON.stringify(wrapped) };
    const [found] = eventsIn(wrapped);
    expect(found?.invalid).toBe('wrapped more than 4 times');
  });

  it('never throws, and every found event is classified without throwing, whatever the JSON', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        for (const found of eventsIn(value))
          expect(classifyEvent(found.event).kind).toMatch(/run|ignored|invalid/);
      }),
    );
  });
});
