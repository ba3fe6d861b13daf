import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { describeAction } from '../../functions/domain/action-text.ts';
import type { PlannedAction, RemediationPlan } from '../../functions/domain/remediation-plan.ts';
import { controlSettled } from '../../functions/domain/transitions.ts';
import { GROUPS_PER_PAGE, page, pageCount, workGroups } from '../../functions/domain/work-groups.ts';

function action(id: string, over: Partial<PlannedAction> = {}): PlannedAction {
  return {
    id,
    kind: 'enable-exclusion',
    accountId: '111111111111',
    region: 'us-east-1',
    vpcId: 'vpc-a',
    resourceId: 'vpc-a',
    gate: 'approval',
    status: 'ready',
    risks: ['posture'],
    monthlyCostDeltaUsd: 0,
    reason: 'because',
    dependsOn: [],
    params: {},
    ...over,
  };
}

function planOf(actions: PlannedAction[]): RemediationPlan {
  return {
    accountId: '111111111111',
    region: 'us-east-1',
    plannedAt: '2026-11-24T00:00:00.000Z',
    dryRun: false,
    actions,
    summary: { ready: 0, needApproval: 0, deferred: 0, skipped: 0, guidance: 0, monthlyCostDeltaUsd: 0 },
  };
}

const none = { approvedDigests: new Map<string, Set<string>>(), refusedActionIds: new Set<string>() };
/** Digests as planned now: `sha256:<id>-now` for every id named. */
const now = (...ids: string[]) => new Map(ids.map((id) => [id, `sha256:${id}-now`]));

describe('work groups', () => {
  it('groups ready actions by VPC, or by resource for Transit Gateways, split by gate', () => {
    const groups = workGroups(
      planOf([
        action('a1', { gate: 'auto' }),
        action('a2'),
        action('t1', { vpcId: undefined, resourceId: 'tgw-1', kind: 'enable-tgw-encryption' }),
        action('b1', { vpcId: 'vpc-b', resourceId: 'i-1', kind: 'move-instance' }),
      ]),
      none,
      now('a1', 'a2', 't1', 'b1'),
    );
    expect(groups).toEqual([
      {
        groupId: 'tgw-1',
        targetType: 'transit-gateway',
        autoActionIds: [],
        preApprovedActionIds: [],
        approvalActionIds: ['t1'],
      },
      {
        groupId: 'vpc-a',
        targetType: 'vpc',
        autoActionIds: ['a1'],
        preApprovedActionIds: [],
        approvalActionIds: ['a2'],
      },
      {
        groupId: 'vpc-b',
        targetType: 'vpc',
        autoActionIds: [],
        preApprovedActionIds: [],
        approvalActionIds: ['b1'],
      },
    ]);
  });

  it('leaves out what is not ready, off, or guidance', () => {
    const groups = workGroups(
      planOf([
        action('deferred', { status: 'deferred-cap' }),
        action('off', { gate: 'off', status: 'skipped-off' }),
        action('advice', { kind: 'manual-guidance', gate: 'manual', status: 'guidance' }),
      ]),
      none,
      now('deferred', 'off', 'advice'),
    );
    expect(groups).toEqual([]);
  });

  it('does not ask twice in a run: approved earlier is applied, refused earlier is dropped with its dependents', () => {
    const groups = workGroups(
      planOf([
        action('x1'),
        action('x2', { dependsOn: ['x1'] }),
        action('y1', { vpcId: 'vpc-b', resourceId: 'vpc-b' }),
        action('y2', { vpcId: 'vpc-b', resourceId: 'vpc-b', dependsOn: ['y1'] }),
      ]),
      {
        approvedDigests: new Map([
          ['y1', new Set(['sha256:y1-now'])],
          ['y2', new Set(['sha256:y2-now'])],
        ]),
        refusedActionIds: new Set(['x1']),
      },
      now('x1', 'x2', 'y1', 'y2'),
    );
    expect(groups).toEqual([
      {
        groupId: 'vpc-b',
        targetType: 'vpc',
        autoActionIds: [],
        preApprovedActionIds: ['y1', 'y2'],
        approvalActionIds: [],
      },
    ]);
  });

  it('asks again for an action approved earlier that is planned now otherwise than it was shown', () => {
    const groups = workGroups(
      planOf([action('m1', { kind: 'move-instance', resourceId: 'i-1' }), action('e1')]),
      {
        approvedDigests: new Map([
          ['m1', new Set(['sha256:m1-as-shown-then'])],
          ['e1', new Set(['sha256:e1-now'])],
        ]),
        refusedActionIds: new Set(),
      },
      now('m1', 'e1'),
    );
    expect(groups).toEqual([
      {
        groupId: 'vpc-a',
        targetType: 'vpc',
        autoActionIds: [],
        preApprovedActionIds: ['e1'],
        approvalActionIds: ['m1'],
      },
    ]);
  });

  it('pages hold at most 50 groups and cover every group once', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 400 }), (n) => {
        const groups = Array.from({ length: n }, (_, i) => i);
        const pages = Array.from({ length: pageCount(groups) }, (_, p) => page(groups, p));
        return (
          pages.every((p) => p.length > 0 && p.length <= GROUPS_PER_PAGE) &&
          pages.flat().join() === groups.join()
        );
      }),
    );
  });
});

describe('control transitions', () => {
  it('settled only in a known resting state with every exclusion settled; unknown states keep polling', () => {
    expect(controlSettled({ state: 'available', exclusions: { NatGateway: { state: 'enabled' } } })).toBe(
      true,
    );
    expect(controlSettled({ state: 'enforce-failed', exclusions: {} })).toBe(true);
    expect(controlSettled({ state: 'available', exclusions: { NatGateway: { state: 'enabling' } } })).toBe(
      false,
    );
    expect(controlSettled({ state: 'monitor-in-progress', exclusions: {} })).toBe(false);
    expect(controlSettled({ state: 'modify-in-progress', exclusions: {} })).toBe(false);
  });
});

describe('action text', () => {
  const names = { 'vpc-a': 'payments', 'tgw-1': 'core' };
  it.each([
    [
      action('1', { kind: 'create-monitor-control' }),
      'create an encryption control in monitor mode on vpc-a (payments)',
    ],
    [
      action('2', { kind: 'switch-to-enforce', params: { exclusions: ['NatGateway'] } }),
      'switch vpc-a (payments) to enforce mode (relying on the NatGateway exclusion)',
    ],
    [
      action('3', { kind: 'restore-enforce', params: { exclusions: ['NatGateway', 'InternetGateway'] } }),
      'restore enforce mode on vpc-a (payments) (relying on the NatGateway, InternetGateway exclusions)',
    ],
    [
      action('4', { kind: 'enable-exclusion', params: { exclusion: 'VpcPeering' } }),
      'enable the VpcPeering exclusion on vpc-a (payments)',
    ],
    [
      action('5', { kind: 'disable-exclusion', params: { exclusion: 'VpcPeering' } }),
      'disable the VpcPeering exclusion on vpc-a (payments)',
    ],
    [
      action('6', {
        kind: 'move-instance',
        resourceId: 'i-1',
        params: {
          instanceId: 'i-1',
          fromInstanceType: 'm4.large',
          toInstanceType: 'm6i.large',
          driverCheckRequired: true,
        },
      }),
      'move i-1 in vpc-a (payments) from m4.large to m6i.large (stop, change type, start); Xen source: the image needs ENA and NVMe drivers',
    ],
    [
      action('7', {
        kind: 'enable-tgw-encryption',
        vpcId: undefined,
        resourceId: 'tgw-1',
        params: { transitGatewayId: 'tgw-1' },
      }),
      'enable encryption support on Transit Gateway tgw-1',
    ],
    [
      action('8', { kind: 'create-flow-log' }),
      'create a flow log on vpc-a (payments) that records encryption-status',
    ],
    [action('9', { kind: 'manual-guidance', reason: 'move the GWLB' }), 'for a person: move the GWLB'],
  ])('%#: says what will change', (a, text) => {
    expect(describeAction(a, names)).toBe(text);
  });

  it('without a name, the id alone', () => {
    expect(describeAction(action('1', { kind: 'create-monitor-control' }))).toBe(
      'create an encryption control in monitor mode on vpc-a',
    );
  });
});
