/**
 * Issue 9, problem 8: an ignored event's reason quotes the event (its eventName), which whoever produces the
 * event chooses. A 1 MB event name carrying escapes is logged, and answered, as one bounded line.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { OrganizationsReadClient } from '../../functions/adapters/organizations.ts';
import { validatePolicy } from '../../functions/domain/policy.ts';
import { IGNORE_REASON_MAX, type OnEventDeps, onEvent } from '../../functions/handlers/on-event.ts';
import { logger } from '../../functions/shared/powertools.ts';

const event = JSON.parse(
  readFileSync(
    join(import.meta.dirname, '../fixtures/events/cloudtrail-create-vpc-unauthorized.json'),
    'utf8',
  ),
) as { detail: Record<string, unknown> };

/** An ignored event calls no AWS: any call is a failure of the test. */
const refuse = { send: () => Promise.reject(new Error('an ignored event called AWS')) };
const deps: OnEventDeps = {
  sfn: refuse as unknown as OnEventDeps['sfn'],
  organizations: refuse as unknown as OrganizationsReadClient,
  config: {
    stateMachineArn: 'arn:aws:states:us-east-1:111111111111:stateMachine:vecguard-loop',
    memberRoleName: 'vecguard-member',
    policy: validatePolicy({ version: 1 }),
  },
  clock: () => new Date('2026-11-24T01:31:00Z'),
  executionStatus: refuse as unknown as OnEventDeps['executionStatus'],
  leases: refuse as unknown as OnEventDeps['leases'],
};

afterEach(() => vi.restoreAllMocks());

describe('on-event, an ignored event with a 1 MB event name', () => {
  it('logs and answers its reason bounded, on one line, saying how much was cut', async () => {
    const info = vi.spyOn(logger, 'info').mockImplementation(() => undefined);
    const eventName = `\u001b[2J\r\nall VPCs ENFORCED${'A'.repeat(1_000_000)}`;
    const result = await onEvent({ ...event, detail: { ...event.detail, eventName } }, deps);

    expect(result.outcome).toBe('ignored');
    const answered = (result as { reason: string }).reason;
    const logged = info.mock.calls.find(([message]) => message === 'event ignored');
    const reason = (logged?.[1] as { reason?: string } | undefined)?.reason ?? '';
    expect(reason).toBe(answered);
    expect(reason.length).toBeLessThanOrEqual(IGNORE_REASON_MAX);
    expect(JSON.stringify(logged).length).toBeLessThan(IGNORE_REASON_MAX + 500);
    expect(reason).toMatch(/^\\x1b\[2J\\x0d\\x0aall VPCs ENFORCEDA+… \[\d+ more characters\]$/);
    expect([...reason].filter((ch) => (ch.codePointAt(0) ?? 0) < 0x20)).toEqual([]);
  });
});
