import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  actionDigest,
  approvalDigest,
  approvedAsShown,
  beforeStateOf,
  canonicalJson,
} from '../../functions/domain/approval-digest.ts';
import type { PlannedAction } from '../../functions/domain/remediation-plan.ts';
import { ACCOUNT_ID, control, REGION, snapshot, vpc } from './fixtures.ts';

function move(from: string, to: string, over: Partial<PlannedAction> = {}): PlannedAction {
  return {
    id: 'move-instance:i-1',
    kind: 'move-instance',
    accountId: ACCOUNT_ID,
    region: REGION,
    vpcId: 'vpc-a',
    resourceId: 'i-1',
    gate: 'approval',
    status: 'ready',
    risks: ['disruptive'],
    monthlyCostDeltaUsd: 0,
    reason: `Move i-1 (${from}) to ${to}`,
    dependsOn: [],
    params: { instanceId: 'i-1', fromInstanceType: from, toInstanceType: to, driverCheckRequired: false },
    ...over,
  };
}

const withInstance = (instanceType: string, controlMode: 'monitor' | 'enforce' | null = null) =>
  snapshot({
    vpcs: [vpc('vpc-a', { control: controlMode === null ? null : control(controlMode) })],
    instances: [{ instanceId: 'i-1', instanceType, vpcId: 'vpc-a', state: 'running' }],
  });

describe('approval digests', () => {
  it('differ when the same action id moves another type (the retyped instance of issue 9)', () => {
    const asked = actionDigest(move('t2.medium', 'm6i.large'), withInstance('t2.medium'));
    const now = actionDigest(move('c5.4xlarge', 'c6i.4xlarge'), withInstance('c5.4xlarge'));
    expect(asked).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(now).not.toBe(asked);
  });

  it('differ when only the before-state differs, and when only a parameter differs', () => {
    const action = move('t2.medium', 'm6i.large');
    const asked = actionDigest(action, withInstance('t2.medium'));
    expect(actionDigest(action, withInstance('c5.4xlarge'))).not.toBe(asked);
    expect(actionDigest(move('t2.medium', 'm6i.xlarge'), withInstance('t2.medium'))).not.toBe(asked);
    expect(actionDigest({ ...action, monthlyCostDeltaUsd: 12 }, withInstance('t2.medium'))).not.toBe(asked);
  });

  it('stay the same for what vecguard changes itself, or what the approver was not shown', () => {
    const enforce: PlannedAction = {
      ...move('x', 'y'),
      id: 'switch-to-enforce:vpc-a',
      kind: 'switch-to-enforce',
      resourceId: 'vpc-a',
      reason: 'first reason',
      dependsOn: ['enable-exclusion:vpc-a:NatGateway'],
      params: { mode: 'enforce', exclusions: ['NatGateway'] },
    };
    const asked = snapshot({
      vpcs: [vpc('vpc-a', { control: control('monitor', { exclusions: { NatGateway: 'enabling' } }) })],
    });
    const settled = snapshot({
      vpcs: [vpc('vpc-a', { control: control('monitor', { exclusions: { NatGateway: 'enabled' } }) })],
      takenAt: '2026-01-15T11:00:00.000Z',
    });
    expect(actionDigest({ ...enforce, reason: 'reworded', dependsOn: [] }, settled)).toBe(
      actionDigest(enforce, asked),
    );
    expect(beforeStateOf(enforce, asked)).toEqual({ controlMode: 'monitor' });
  });

  it('do not depend on the order keys were built in', () => {
    const a = move('t2.medium', 'm6i.large');
    const reordered = {
      ...a,
      params: {
        toInstanceType: 'm6i.large',
        driverCheckRequired: false,
        fromInstanceType: 't2.medium',
        instanceId: 'i-1',
      },
    };
    expect(actionDigest(reordered, withInstance('t2.medium'))).toBe(
      actionDigest(a, withInstance('t2.medium')),
    );
  });

  it('canonical JSON is the same for any key order and parses back to the value', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (value) => {
        const text = canonicalJson(value as never);
        const reversed = Object.fromEntries(Object.entries(value).reverse());
        return text === canonicalJson(reversed as never) && canonicalJson(JSON.parse(text)) === text;
      }),
    );
  });

  it('a request digest covers each action id and digest, in order', () => {
    const one = { actionId: 'a', digest: `sha256:${'1'.repeat(64)}` };
    const two = { actionId: 'b', digest: `sha256:${'2'.repeat(64)}` };
    expect(approvalDigest([one, two])).not.toBe(approvalDigest([two, one]));
    expect(approvalDigest([one, two])).not.toBe(approvalDigest([one, { ...two, digest: one.digest }]));
  });

  it('an approval carries over only with the digest it was given under', () => {
    const approved = new Map([['a', new Set(['sha256:x'])]]);
    expect(approvedAsShown('a', 'sha256:x', approved)).toBe(true);
    expect(approvedAsShown('a', 'sha256:y', approved)).toBe(false);
    expect(approvedAsShown('b', 'sha256:x', approved)).toBe(false);
    expect(approvedAsShown('a', undefined, approved)).toBe(false);
  });
});
