/**
 * Properties of event classification over wide inputs: arbitrary JSON, envelopes with arbitrary details, and
 * the real fixtures with one subtree replaced by arbitrary JSON (the shapes a broken producer sends).
 * classifyEvent never throws, is deterministic, and every `run` carries valid, sorted triggers. Execution
 * names are valid for any trigger and idempotent per event; coalescing is order-free and idempotent.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  classifyEvent,
  coalesce,
  EXECUTION_NAME_PATTERN,
  executionName,
  runIdOf,
  TRIGGER_SOURCES,
  type Trigger,
  TriggerSchema,
} from '../../functions/domain/triggers.ts';

const FIXTURES = join(import.meta.dirname, '../fixtures/events');
const fixtures = readdirSync(FIXTURES)
  .filter((f) => f.endsWith('.json'))
  .map((f) => JSON.parse(readFileSync(join(FIXTURES, f), 'utf8')) as unknown);

const DETAIL_TYPES = [
  'AWS API Call via CloudTrail',
  'Config Configuration Item Change',
  'Scheduled Event',
  'Security Hub Findings - Custom Action',
  'Something Else',
];
const SOURCES = ['aws.ec2', 'aws.config', 'aws.events', 'aws.securityhub', 'my.app'];

const arbEnvelope = fc.record({
  version: fc.constant('0'),
  id: fc.oneof(fc.uuid(), fc.string()),
  'detail-type': fc.constantFrom(...DETAIL_TYPES),
  source: fc.constantFrom(...SOURCES),
  account: fc.oneof(fc.constant('111111111111'), fc.stringMatching(/^\d{12}$/), fc.string()),
  time: fc.oneof(fc.constant('2026-11-24T01:30:00Z'), fc.string()),
  region: fc.oneof(fc.constantFrom('us-east-1', 'eu-west-1', 'cn-north-1'), fc.string()),
  resources: fc.array(fc.string(), { maxLength: 2 }),
  detail: fc.jsonValue(),
});

/** Replace the value at a random path of `value` with `replacement`. */
function mutate(value: unknown, path: readonly number[], replacement: unknown): unknown {
  if (path.length === 0 || value === null || typeof value !== 'object') return replacement;
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 0) return replacement;
  const [head = 0, ...rest] = path;
  const index = head % entries.length;
  const copy: Record<string, unknown> | unknown[] = Array.isArray(value) ? [...value] : { ...value };
  const key = entries[index]?.[0] ?? '';
  (copy as Record<string, unknown>)[key] = mutate(entries[index]?.[1], rest, replacement);
  return copy;
}

function checkDecision(event: unknown) {
  const first = classifyEvent(event);
  expect(classifyEvent(structuredClone(event))).toEqual(first);
  if (first.kind === 'run') {
    expect(first.triggers.length).toBeGreaterThan(0);
    for (const t of first.triggers) {
      TriggerSchema.parse(t);
      if (t.vpcIds) expect(t.vpcIds).toEqual([...new Set(t.vpcIds)].sort());
    }
  } else {
    expect(first.reason.length).toBeGreaterThan(0);
    if (first.kind === 'invalid') expect(first.reason).not.toMatch(/[\r\n]/);
  }
}

describe('classifyEvent over arbitrary input', () => {
  it('never throws on arbitrary JSON and answers the same twice', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        checkDecision(value);
      }),
      { numRuns: 500 },
    );
  });

  it('never throws on envelopes with arbitrary details', () => {
    fc.assert(
      fc.property(arbEnvelope, (event) => {
        checkDecision(event);
      }),
      { numRuns: 500 },
    );
  });

  it('never throws on real events with one part replaced by arbitrary JSON', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...fixtures),
        fc.array(fc.nat(), { maxLength: 6 }),
        fc.jsonValue({ maxDepth: 3 }),
        (event, path, replacement) => {
          checkDecision(mutate(event, path, replacement));
        },
      ),
      { numRuns: 1000 },
    );
  });
});

const arbTrigger: fc.Arbitrary<Trigger> = fc.record({
  accountId: fc.oneof(fc.stringMatching(/^\d{12}$/), fc.string()),
  region: fc.oneof(fc.constantFrom('us-east-1', 'ap-southeast-2', 'us-gov-west-1'), fc.string()),
  vpcIds: fc.option(fc.array(fc.stringMatching(/^vpc-[0-9a-f]{17}$/), { maxLength: 4 }), { nil: null }),
  reason: fc.string({ minLength: 1 }),
  source: fc.constantFrom(...TRIGGER_SOURCES),
  eventId: fc.oneof(fc.uuid(), fc.string({ minLength: 1, maxLength: 300 })),
  time: fc.oneof(
    fc
      .date({ noInvalidDate: true, min: new Date('2000-01-01'), max: new Date('2099-12-31') })
      .map((d) => d.toISOString()),
    fc.string(),
  ),
});

describe('executionName', () => {
  it('is a valid Step Functions name for any trigger, and so is the run id', () => {
    fc.assert(
      fc.property(arbTrigger, (t) => {
        expect(executionName(t)).toMatch(EXECUTION_NAME_PATTERN);
        expect(runIdOf(t)).toMatch(/^[A-Za-z0-9_-]{1,80}$/);
      }),
      { numRuns: 1000 },
    );
  });

  it('is the same for the same event whatever else the trigger says, and differs for another event', () => {
    fc.assert(
      fc.property(
        arbTrigger,
        fc.string({ minLength: 1 }),
        fc.string({ minLength: 1 }),
        (t, reason, otherId) => {
          expect(executionName({ ...t, reason, vpcIds: null })).toBe(executionName(t));
          fc.pre(otherId !== t.eventId);
          expect(executionName({ ...t, eventId: otherId })).not.toBe(executionName(t));
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('coalesce', () => {
  const arbBatch = fc.array(
    arbTrigger.map((t) => ({
      ...t,
      // a few scopes, so that triggers meet
      accountId: t.accountId.length % 2 === 0 ? '111111111111' : '222222222222',
      region: t.region.length % 2 === 0 ? 'us-east-1' : 'eu-west-1',
      eventId: t.eventId.replaceAll('+', '') || 'e',
    })),
    { maxLength: 12 },
  );

  it('gives one trigger per scope, with the union of VPC ids unless one asked for the whole scope', () => {
    fc.assert(
      fc.property(arbBatch, (batch) => {
        const merged = coalesce(batch);
        const scopes = new Set(batch.map((t) => `${t.accountId}/${t.region}`));
        expect(merged.map((t) => `${t.accountId}/${t.region}`)).toEqual([...scopes].sort());
        for (const m of merged) {
          const group = batch.filter((t) => t.accountId === m.accountId && t.region === m.region);
          if (group.some((t) => t.vpcIds === null)) expect(m.vpcIds).toBeNull();
          else expect(m.vpcIds).toEqual([...new Set(group.flatMap((t) => t.vpcIds ?? []))].sort());
        }
      }),
    );
  });

  it('does not depend on order, and coalescing twice changes nothing', () => {
    fc.assert(
      fc.property(arbBatch, fc.func(fc.integer()), (batch, key) => {
        const shuffled = [...batch].sort((a, b) => key(a) - key(b));
        const merged = coalesce(batch);
        expect(coalesce(shuffled)).toEqual(merged);
        expect(coalesce(merged)).toEqual(merged);
      }),
    );
  });
});
